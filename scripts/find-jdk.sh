# Sourced by ./nemotron4j and ./build. Sets JAVA_HOME to a JDK >= 25 or explains what to install.
# Order: $JAVA_HOME, the `java` on PATH, then the usual install places (newest first).

NEMOTRON4J_MIN_JDK=25

# Prints the feature version (e.g. 25) of the JDK at $1, or nothing.
_n4j_jdk_version() {
  local home="$1" v=""
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
  if [ -f "$home/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release" | head -n 1)
  fi
  if [ -z "$v" ]; then
    v=$("$home/bin/java" -XshowSettings:properties -version 2>&1 \
        | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1)
  fi
  printf '%s' "$v"
}

_n4j_good_jdk() {
  local v
  v=$(_n4j_jdk_version "$1")
  [ -n "$v" ] && [ "$v" -ge "$NEMOTRON4J_MIN_JDK" ] 2>/dev/null
}

n4j_find_jdk() {
  local candidate
  if [ -n "${JAVA_HOME:-}" ] && _n4j_good_jdk "$JAVA_HOME"; then
    return 0
  fi
  if command -v java >/dev/null 2>&1; then
    candidate=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    if _n4j_good_jdk "$candidate"; then
      export JAVA_HOME="$candidate"; return 0
    fi
  fi
  local best="" bestv=0 v
  for candidate in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* /usr/local/jdk* \
                   "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* \
                   /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$candidate" ] || continue
    v=$(_n4j_jdk_version "$candidate")
    [ -n "$v" ] || continue
    if [ "$v" -ge "$NEMOTRON4J_MIN_JDK" ] 2>/dev/null && [ "$v" -gt "$bestv" ]; then
      best="$candidate"; bestv="$v"
    fi
  done
  if [ -n "$best" ]; then
    export JAVA_HOME="$best"; return 0
  fi
  echo "nemotron4j: no JDK ${NEMOTRON4J_MIN_JDK}+ found (looked at JAVA_HOME, PATH and /usr/lib/jvm). Install one, e.g. 'apt-get install temurin-25-jdk' (Adoptium repository) or any OpenJDK 25 build, then set JAVA_HOME." >&2
  return 1
}
