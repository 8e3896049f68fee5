#!/usr/bin/env bash
# Builds sigil-bench and runs every benchmark once with the settings in bench/README.md, printing
# each summary. About 12 minutes; run it on a quiet machine. BENCH_JMH_OPTS overrides the JMH options.
set -uo pipefail
# a benchmark that misses its target exits 1: run-all goes on, and says so at the end
missed=()
trap 'missed+=("$BASH_COMMAND")' ERR
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/bin/lib/jdk.sh"
sigil_select_jdk
cd "$root"
java="$JAVA_HOME/bin/java"
jar=sigil-bench/target/sigil-bench.jar

echo "== build"
./mvnw -B -q -ntp -pl sigil-bench -am package -DskipTests || exit 1

echo "== minting throughput (JMH, single thread)"
# JMH's per-iteration output goes to a log; the table and the ratios are printed
log=$(mktemp)
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.sigil.bench.MintRatios \
    ${BENCH_JMH_OPTS:--f 1 -wi 3 -i 5 -w 5s -r 5s} >"$log" 2>&1 || { cat "$log"; rm -f "$log"; exit 1; }
grep -o 'signing provider: .*' "$log" | sort -u || true
sed -n '/^Benchmark /,$p' "$log"
rm -f "$log"

echo
echo "== registration entries at scale (SQLite)"
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.sigil.bench.EntryScaleBench

echo
echo "== server start to healthy: java -jar sigil.jar"
"$java" -cp "$jar" dev.sigil.bench.ServerStartBench

echo
echo "== server start to healthy: with bin/sigil's JVM options"
"$java" -cp "$jar" dev.sigil.bench.ServerStartBench --jvm-opts "-XX:+UseG1GC -XX:MaxGCPauseMillis=50"

echo
echo "== workload api: first response, open streams and rotation, entry sync (server + agent in one JVM)"
# a fixed, pre-touched heap keeps the resident-set difference of the open streams free of heap resizing
"$java" --enable-native-access=ALL-UNNAMED -Xms512m -Xmx512m -XX:+AlwaysPreTouch -cp "$jar" dev.sigil.bench.WorkloadApiBench

echo
echo "== workload api as workloads use it: agent in its own process (sigil agent run), 10,000 streams"
"$java" --enable-native-access=ALL-UNNAMED -Xms1g -Xmx1g -cp "$jar" dev.sigil.bench.WorkloadApiProcessBench

echo
echo "== policy decisions: one decide against 1,000 rules (JMH, ns/op)"
"$java" --enable-native-access=ALL-UNNAMED -jar "$jar" PolicyBenchmark -f 1 -wi 3 -i 5 -w 5s -r 5s

echo
echo "== token exchange over HTTPS with the durable audit trail: throughput, latency at 1,000/s, primitives"
command -v wrk >/dev/null 2>&1 || echo "(install wrk — apt-get install wrk — to drive the closed loop from outside the JVM)"
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.sigil.bench.TokenExchangeBench --seconds 20 --warmup-seconds 20 --concurrency 32

echo
echo "== postgresql broker: issuance latency and round-trip share, revoking 1,000 leases (broker)"
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.sigil.bench.PostgresBrokerBench

echo
echo "== 1,000 postgresql leases issued (1 and 16 requesters) and revoked through the lease service"
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.sigil.bench.LeaseRevokeBench

echo
echo "== postgresql credentials over HTTPS (POST /v1/credentials) to a server process, 1 and 16 clients"
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.sigil.bench.LeaseHttpsBench

echo
echo "== ssh certificate issuance vs one raw P-256 signature (alternating batches, one thread)"
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.sigil.bench.SshCertBench

echo
echo "== workload drift: binary replaced -> stream withdrawn, drift audited, every credential revoked; monitoring 1,000 workloads"
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.sigil.bench.DriftBench

echo
echo "== token exchange latency with and without 200 slow-body connections (server in its own process)"
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.sigil.bench.SlowClientsBench

echo
echo "== token exchange on 1 vs 2 'bin/sigil server run' processes sharing one PostgreSQL"
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.sigil.bench.ClusterExchangeBench

echo
echo "== soak: two server processes on one PostgreSQL, mixed load, kill -9 every 2 minutes"
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.sigil.bench.ClusterSoakBench

echo
echo "== 1,000 simulated agents syncing 100,000 entries from two server processes"
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.sigil.bench.AgentSyncScaleBench

echo
echo "== side by side: Keycloak client_credentials (ES256), sigil dev, sigil server run, raw JDK verify+sign (downloads Keycloak once)"
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.sigil.bench.KeycloakSideBySideBench

echo
if ((${#missed[@]})); then
    echo "== targets missed (or a benchmark failed):"
    printf '   %s\n' "${missed[@]}"
    exit 1
fi
echo "== every target met"
