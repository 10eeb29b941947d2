#!/usr/bin/env bash
# Installs the llama.cpp we compare with (node-llama-cpp 3.22.1's prebuilt CPU libraries, from the npm registry) into
# DIR (default /tmp/lcpp), next to bench.mjs. Usage: bench/sitting/setup-llama-cpp.sh [DIR]
set -euo pipefail
dir=${1:-/tmp/lcpp}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || npm init -y >/dev/null
# on x86-64 Linux only the CPU package (85 MB), not the optional CUDA and Vulkan ones (725 MB in all)
if [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ]; then
  npm install --no-audit --no-fund --omit=optional node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1 >/dev/null
else
  npm install --no-audit --no-fund node-llama-cpp@3.22.1 >/dev/null
fi
cp "$here/bench.mjs" "$dir/bench.mjs"
echo "llama.cpp bench ready: node $dir/bench.mjs FILE PP TG REPS THREADS [DEPTH]"
