#!/usr/bin/env bash
# CLI start-up: median wall time and median CPU time (user + sys, the process and its children) of
# `bin/sigil` commands and of the launcher's own steps, for one or more checkouts (default: this one),
# so a before and an after can be measured side by side. Runs alternate between the checkouts (run 1 of
# every checkout, then run 2, ...), so load from other work on the machine falls on all of them alike.
# Usage: bench/cli-startup.sh [--runs 7] [checkout ...]. Each checkout must be built already (the
# timed runs must not include a build); an untimed first run records the class-data sharing archive.
# Commands that need a server (an admin API call, a Workload API fetch) go to one `sigil dev`
# started from the first checkout for the whole run, on a temporary data directory.
set -euo pipefail
runs=7
if [ "${1:-}" = --runs ]; then runs=$2; shift 2; fi
[ "$#" -gt 0 ] || set -- "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# time_ms cmd... : runs cmd once (output discarded) and prints "<wall ms> <cpu ms>".
time_ms() {
  local TIMEFORMAT='%3R %3U %3S' t
  t=$({ time "$@" >/dev/null 2>&1; } 2>&1) || { echo "failed: $*" >&2; return 1; }
  awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }' <<<"$t"
}

# median of the numbers on stdin, one a line
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

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

echo "median of $runs runs, alternating between checkouts; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
checkouts=()
for checkout in "$@"; do
  checkout=$(cd "$checkout" && pwd)
  [ -f "$checkout/sigil-cli/target/sigil.jar" ] || { echo "$checkout/sigil-cli/target/sigil.jar is missing: build that checkout first" >&2; exit 1; }
  checkouts+=("$checkout")
  "$checkout/bin/sigil" --version >/dev/null 2>&1       # untimed: records the CDS archive where there is one
  "$checkout/bin/sigil" entry --help >/dev/null 2>&1
  "$checkout/bin/sigil" entry show --socket "$admin" >/dev/null 2>&1
done

# The measurements: labels[m], and command_of m CHECKOUT prints its command line for one checkout.
labels=(
  "bin/sigil --version"
  "SIGIL_NO_BUILD=1 bin/sigil --version"
  "bin/sigil entry --help"
  "bin/sigil entry show (admin socket)"
  "bin/sigil healthcheck (admin socket)"
  "bin/sigil agent api fetch x509"
  "bin/sigil agent api fetch jwt"
  "launcher: JDK selection"
  "launcher: staleness find"
)
command_of() { # index checkout -> the command's words, one a line
  local c=$2
  case "$1" in
    0) printf '%s\n' "$c/bin/sigil" --version ;;
    1) printf '%s\n' env SIGIL_NO_BUILD=1 "$c/bin/sigil" --version ;;
    2) printf '%s\n' "$c/bin/sigil" entry --help ;;
    3) printf '%s\n' env SIGIL_NO_BUILD=1 "$c/bin/sigil" entry show --socket "$admin" ;;
    4) printf '%s\n' env SIGIL_NO_BUILD=1 "$c/bin/sigil" healthcheck --socket "$admin" ;;
    5) printf '%s\n' env SIGIL_NO_BUILD=1 SPIFFE_ENDPOINT_SOCKET="$workload" "$c/bin/sigil" agent api fetch x509 ;;
    6) printf '%s\n' env SIGIL_NO_BUILD=1 SPIFFE_ENDPOINT_SOCKET="$workload" "$c/bin/sigil" agent api fetch jwt --audience bench ;;
    7) printf '%s\n' bash -c ". '$c/bin/lib/jdk.sh'; sigil_select_jdk" ;;
    8) printf '%s\n' find "$c/pom.xml" "$c"/sigil-*/pom.xml "$c"/sigil-{core,proto,server,agent,cli}/src/main -newer "$c/sigil-cli/target/sigil.jar" -print -quit ;;
  esac
}

results="$work/results"
for ((m = 0; m < ${#labels[@]}; m++)); do
  for ((i = 0; i < runs; i++)); do
    for ((k = 0; k < ${#checkouts[@]}; k++)); do
      mapfile -t cmd < <(command_of "$m" "${checkouts[k]}")
      echo "$m $k $(time_ms "${cmd[@]}")" >>"$results"
    done
  done
done

for ((k = 0; k < ${#checkouts[@]}; k++)); do
  echo "== ${checkouts[k]}"
  printf '  %-44s %9s %9s\n' "" "wall ms" "cpu ms"
  for ((m = 0; m < ${#labels[@]}; m++)); do
    wall=$(awk -v m="$m" -v k="$k" '$1 == m && $2 == k { print $3 }' "$results" | median)
    cpu=$(awk -v m="$m" -v k="$k" '$1 == m && $2 == k { print $4 }' "$results" | median)
    printf '  %-44s %9d %9d\n' "${labels[m]}" "$wall" "$cpu"
  done
done
