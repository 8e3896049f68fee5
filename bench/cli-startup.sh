#!/usr/bin/env bash
# CLI start-up: median wall time of `bin/sigil` commands and of the launcher's own steps, for one or
# more checkouts (default: this one), so a before and an after can be measured side by side.
# Usage: bench/cli-startup.sh [--runs 7] [checkout ...]. Each checkout must be built already (the
# timed runs must not include a build); an untimed first run records the class-data sharing archive.
# Commands that need a server (an admin API call, a Workload API fetch) go to one `sigil dev`
# started from the first checkout for the whole run, on a temporary data directory.
set -euo pipefail
runs=7
if [ "${1:-}" = --runs ]; then runs=$2; shift 2; fi
[ "$#" -gt 0 ] || set -- "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# median_ms cmd... : runs cmd $runs times (output discarded) and prints the median wall time in ms.
median_ms() {
  local times=() i start end
  for ((i = 0; i < runs; i++)); do
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
    end=$(date +%s%N)
    times+=($(((end - start) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%6d ms  (min %d, max %d)\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

first=$(cd "$1" && pwd)
work=$(mktemp -d)
dev_pid=
cleanup() {
  [ -n "$dev_pid" ] && kill "$dev_pid" 2>/dev/null && wait "$dev_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
SIGIL_NO_BUILD=1 "$first/bin/sigil" dev --data-dir "$work/dev" >"$work/dev.log" 2>&1 &
dev_pid=$!
admin="$work/dev/server/admin/admin.sock"
for ((i = 0; i < 600; i++)); do
  grep -q "workload api" "$work/dev.log" 2>/dev/null && break
  kill -0 "$dev_pid" 2>/dev/null || { cat "$work/dev.log" >&2; exit 1; }
  sleep 0.1
done
workload=$(awk '/workload api/ { print $3 }' "$work/dev.log")
[ -S "$admin" ] || { echo "sigil dev did not start (log: $work/dev.log)" >&2; cat "$work/dev.log" >&2; exit 1; }

echo "median of $runs runs; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for checkout in "$@"; do
  checkout=$(cd "$checkout" && pwd)
  jar="$checkout/sigil-cli/target/sigil.jar"
  [ -f "$jar" ] || { echo "$jar is missing: build that checkout first" >&2; exit 1; }
  echo "== $checkout"
  "$checkout/bin/sigil" --version >/dev/null 2>&1       # untimed: records the CDS archive where there is one
  "$checkout/bin/sigil" entry --help >/dev/null 2>&1
  "$checkout/bin/sigil" entry show --socket "$admin" >/dev/null 2>&1
  printf '  %-44s' "bin/sigil --version";          median_ms "$checkout/bin/sigil" --version
  printf '  %-44s' "SIGIL_NO_BUILD=1 bin/sigil --version"; median_ms env SIGIL_NO_BUILD=1 "$checkout/bin/sigil" --version
  printf '  %-44s' "bin/sigil entry --help";       median_ms "$checkout/bin/sigil" entry --help
  printf '  %-44s' "bin/sigil entry show (admin socket)"; median_ms env SIGIL_NO_BUILD=1 "$checkout/bin/sigil" entry show --socket "$admin"
  printf '  %-44s' "bin/sigil healthcheck (admin socket)"; median_ms env SIGIL_NO_BUILD=1 "$checkout/bin/sigil" healthcheck --socket "$admin"
  printf '  %-44s' "bin/sigil agent api fetch x509"; median_ms env SIGIL_NO_BUILD=1 SPIFFE_ENDPOINT_SOCKET="$workload" "$checkout/bin/sigil" agent api fetch x509
  printf '  %-44s' "launcher: JDK selection";      median_ms bash -c ". '$checkout/bin/lib/jdk.sh'; sigil_select_jdk"
  printf '  %-44s' "launcher: staleness find";     median_ms find "$checkout/pom.xml" "$checkout"/sigil-*/pom.xml \
    "$checkout"/sigil-{core,proto,server,agent,cli}/src/main -newer "$jar" -print -quit
done
