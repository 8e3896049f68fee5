# Sourced by Sigil's scripts: selects a JDK >= 21 and exports JAVA_HOME and SIGIL_JAVA_MAJOR.
# Order: $JAVA_HOME if it is >= 21, then the newest JDK under /usr/lib/jvm that is >= 21.
# `sigil_select_jdk runtime` (an installed distribution, which only runs Java) also accepts a JRE, and
# last the `java` on PATH; without it a JDK (javac) is required, as building needs one.
# A JDK's major version comes from its `release` file (every JDK since 9 has one), so selecting
# starts no JVM; only a JDK without that file is asked by running `java`.
sigil_java_major() {
  local line version
  if [ -r "$1/release" ]; then
    while IFS= read -r line; do
      case "$line" in
        JAVA_VERSION=*) version=${line#JAVA_VERSION=}; version=${version//\"/}; break ;;
      esac
    done < "$1/release"
  fi
  if [ -z "${version:-}" ]; then
    "$1/bin/java" -XshowSettings:properties -version 2>&1 \
      | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
    return
  fi
  version=${version#1.}            # 1.8.0_402 -> 8.0_402
  echo "${version%%[!0-9]*}"       # 25.0.3 -> 25, 21-ea -> 21
}
sigil_select_jdk() {
  local candidate major best="" best_major=0 tool=javac on_path
  [ "${1:-}" = runtime ] && tool=java
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/$tool" ]; then
    major=$(sigil_java_major "$JAVA_HOME")
    if [ "${major:-0}" -ge 21 ]; then export SIGIL_JAVA_MAJOR="$major"; return 0; fi
  fi
  for candidate in /usr/lib/jvm/*; do
    [ -x "$candidate/bin/$tool" ] || continue
    major=$(sigil_java_major "$candidate")
    if [ "${major:-0}" -ge 21 ] && [ "$major" -gt "$best_major" ]; then
      best="$candidate"; best_major="$major"
    fi
  done
  if [ -z "$best" ] && [ "$tool" = java ] && on_path=$(command -v java 2>/dev/null); then
    candidate=$(dirname "$(dirname "$(readlink -f "$on_path")")")
    major=$(sigil_java_major "$candidate")
    if [ "${major:-0}" -ge 21 ]; then best="$candidate"; best_major="$major"; fi
  fi
  if [ -z "$best" ]; then
    if [ "$tool" = java ]; then
      echo "sigil: no Java 21 or newer found (looked at \$JAVA_HOME, /usr/lib/jvm and the java on PATH)." >&2
      echo "sigil: install one, for example 'apt-get install openjdk-21-jre-headless' (or temurin-21-jre), or set JAVA_HOME." >&2
      return 1
    fi
    echo "sigil: no JDK 21 or newer found (looked at \$JAVA_HOME and /usr/lib/jvm)." >&2
    echo "sigil: install one, for example 'apt-get install openjdk-21-jdk-headless' (or temurin-21-jdk), or set JAVA_HOME." >&2
    return 1
  fi
  export JAVA_HOME="$best" SIGIL_JAVA_MAJOR="$best_major"
}
