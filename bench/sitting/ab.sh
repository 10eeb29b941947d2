#!/usr/bin/env bash
# A/B of builds (or JVM switches) on one file, alternating, so that a drift of the host hits all of them:
#   bench/sitting/ab.sh FILE ROUNDS JAR[:JVM-OPTIONS]... -- BENCH-ARGS
# e.g. ab.sh /tmp/models/small-q4_0.gguf 3 /tmp/jars/old.jar /tmp/jars/new.jar /tmp/jars/new.jar:-Dn4j.parts=4 -- -p 128 -n 0
set -u
file=$1 rounds=$2; shift 2
specs=(); while [ "$1" != "--" ]; do specs+=("$1"); shift; done; shift
java=${JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}
cat "$file" > /dev/null
for ((i = 0; i < rounds; i++)); do
  for spec in "${specs[@]}"; do
    jar=${spec%%:*}; opts=(); [ "$spec" != "$jar" ] && read -r -a opts <<< "${spec#*:}"
    r=$("$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmn64m "${opts[@]}" \
          -jar "$jar" bench -m "$file" -t 2 --json "$@" 2>/dev/null | tail -1 |
        python3 -c "import sys,json; d=json.load(sys.stdin); print(' '.join('%s %.2f'%(r['test'],r['tokens_per_second']['mean']) for r in d['results']))")
    echo "$spec: $r"
  done
done
