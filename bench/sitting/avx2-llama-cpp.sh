#!/usr/bin/env bash
# A copy of the llama.cpp that setup-llama-cpp.sh installed, keeping only the CPU backends an AVX2 machine without
# AVX-512 or VNNI can load (haswell and older), so that an AVX-512 host compares as an AVX2 machine would:
#   bench/sitting/avx2-llama-cpp.sh [SRC] [DST]      (defaults /tmp/lcpp and /tmp/lcpp-avx2)
# then: LCPP=/tmp/lcpp-avx2 JVM_OPTS=-XX:UseAVX=2 bench/sitting/run.sh JAR ...
set -eu
src=${1:-/tmp/lcpp} dst=${2:-/tmp/lcpp-avx2}
[ -d "$src/node_modules" ] || { echo "no llama.cpp in $src: run bench/sitting/setup-llama-cpp.sh first" >&2; exit 1; }
rm -rf "$dst"
cp -r "$src" "$dst"
bins=$(ls -d "$dst"/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64)
# backends using AVX-512 (zen4, skylakex, cannonlake, cascadelake, cooperlake, icelake, sapphirerapids) or
# AVX-VNNI (alderlake) go; haswell (AVX2 + FMA) is then the best one left
for v in zen4 skylakex cannonlake cascadelake cooperlake icelake sapphirerapids alderlake; do rm -f "$bins/libggml-cpu-$v.so"; done
ls "$bins" | grep libggml-cpu
