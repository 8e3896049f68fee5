#!/usr/bin/env bash
# Token exchange under sustained load, window by window: starts `bin/sigil server run` of a checkout
# (default: this one) on a fresh data directory (embedded SQLite, its durable defaults), applies a policy,
# mints --tokens JWT-SVIDs, then runs wrk (1 thread, 16 keep-alive connections, POST /oauth2/token) for
# --windows windows of --seconds each, back to back, and prints per window the rate, the p99, the
# server's CPU per exchange, the bytes it wrote per exchange (WAL frames and checkpoint copies) and the
# size of the database file at its end. It shows whether the server
# holds its rate and tail as the database grows (every exchange adds a lease, a token, a status entry
# and an audit record). Needs wrk. Usage:
#   bench/exchange-windows.sh [--windows 8] [--seconds 15] [--tokens 16] [--port 18443] [checkout]
set -euo pipefail
windows=8 seconds=15 tokens=16 port=18443
while [ "$#" -gt 0 ]; do
  case "$1" in
    --windows) windows=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --tokens) tokens=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
checkout=$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
sigil="$checkout/bin/sigil"
# the checkout is built beforehand; a source edited during the run must not start a rebuild in the middle of it
export SIGIL_NO_BUILD=1
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/server.yaml" <<'YAML'
trust_domain: example.org
log_level: warn
jwt:
  issuer: https://sigil.bench
YAML
cat > "$work/policy.yaml" <<'YAML'
rules:
  - name: web-to-api
    effect: allow
    subject:
      spiffe_id: spiffe://example.org/web
    actions: [token:exchange]
    resources: [https://api]
YAML
export SIGIL_TOKEN_PORT=$port SIGIL_BUNDLE_PORT=$((port + 1)) SIGIL_AGENT_API_PORT=$((port + 2))
"$sigil" server run --config "$work/server.yaml" --data-dir "$work/data" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do "$sigil" healthcheck --data-dir "$work/data" >/dev/null 2>&1 && break; sleep 0.3; done
"$sigil" healthcheck --data-dir "$work/data" >/dev/null || { echo "the server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
"$sigil" policy apply --data-dir "$work/data" "$work/policy.yaml" >/dev/null

enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
{
  echo "local bodies = {"
  for _ in $(seq 1 "$tokens"); do
    t=$("$sigil" jwt mint --data-dir "$work/data" --spiffe-id spiffe://example.org/web \
      --audience https://sigil.bench/oauth2/token --ttl 1h)
    echo "\"grant_type=$(enc urn:ietf:params:oauth:grant-type:token-exchange)&subject_token_type=$(enc urn:ietf:params:oauth:token-type:jwt)&subject_token=$(enc "$t")&audience=$(enc https://api)\","
  done
  cat <<'LUA'
}
local i = 0
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/oauth2/token", headers, bodies[i])
end
LUA
} > "$work/exchange.lua"

# the java process (bin/sigil execs it, so it is the pid started above)
clock_ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
# bytes the server handed to write(2) and pwrite(2): the WAL's frames and the checkpoints' copies, mostly
written_bytes() { awk '/^wchar:/ { print $2 }' "/proc/$server_pid/io"; }
echo "sigil server run ($checkout), wrk 1 thread 16 connections, ${seconds} s windows, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-7s %12s %10s %16s %14s %10s\n' window exchanges/s "p99 ms" "server CPU us" "written KiB" "db MiB"
for w in $(seq 1 "$windows"); do
  before=$(cpu_ticks)
  wrote_before=$(written_bytes)
  out=$(wrk -t1 -c16 -d"${seconds}s" --latency -s "$work/exchange.lua" "https://127.0.0.1:$port")
  after=$(cpu_ticks)
  wrote_after=$(written_bytes)
  n=$(awk '/requests in/ { print $1 }' <<<"$out")
  rate=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
  [ -z "$errors" ] || echo "window $w: $errors" >&2
  db=$(( $(stat -c %s "$work/data/datastore.sqlite3") >> 20 ))
  printf '%-7s %12s %10s %16d %14.1f %10d\n' "$w" "$rate" "${p99%ms}" $(( (after - before) * 1000000 / clock_ticks / n )) \
    "$(awk -v b="$(( wrote_after - wrote_before ))" -v n="$n" 'BEGIN { print b / 1024 / n }')" "$db"
done
