#!/usr/bin/env bash
# One sitting: per file, our `bench` and then llama.cpp's (bench.mjs), right after each other, so that both meet the
# same phase of a noisy host. Prints one JSON line per engine and file; show.py turns them into a table.
#   bench/sitting/run.sh JAR REPS PP TG FILE...        (DEPTH=2048 in the environment: llama-bench's -d)
# ROUNDS=N in the environment runs the whole list N times, the two engines' order swapped every other round, so that
# show.py can give each row's ratio per round (a paired comparison) and their median: on a host whose speed moves from
# minute to minute, one pair of runs can land on either side of 1.0x by chance.
# JAR is a build of tools (tools/target/nemotron4j.jar, copied aside to compare builds); LCPP is where
# setup-llama-cpp.sh installed llama.cpp (default /tmp/lcpp); JAVA a JDK 25 java (default: Temurin 25 under /usr/lib/jvm);
# JVM_OPTS more JVM options. An AVX2 machine on an AVX-512 host: JVM_OPTS=-XX:UseAVX=2 with LCPP from avx2-llama-cpp.sh.
set -u
jar=$1 reps=$2 pp=$3 tg=$4; shift 4
lcpp=${LCPP:-/tmp/lcpp} depth=${DEPTH:-0}
java=${JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}
ours() {
  "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmn64m ${JVM_OPTS:-} -jar "$jar" \
    bench -m "$1" -t 2 -r "$reps" -p "$pp" -n "$tg" "${d[@]}" --json 2>/dev/null | tail -1
}
theirs() {
  (cd "$lcpp" && node bench.mjs "$1" "$pp" "$tg" "$reps" 2 "$depth" 2>/dev/null | tail -1)
}
d=(); [ "$depth" -gt 0 ] && d=(-d "$depth")
for ((round = 0; round < ${ROUNDS:-1}; round++)); do
for f in "$@"; do
  # into the page cache first, for both engines; the cache emptied before (as root) so that the file's pages are read
  # fresh: with other models cached, llama.cpp's mmap read the 4B BF16 file at 1.7-2.3 tok/s, after a drop 5.4
  # (session 27; ours copies the weights into its own memory, and was not affected)
  sync; { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null || true
  cat "$f" > /dev/null
  if ((round % 2 == 0)); then ours "$f"; theirs "$f"; else theirs "$f"; ours "$f"; fi
done
done
