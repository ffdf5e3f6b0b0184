#!/bin/bash
# P9: loopdoctor monitor --diagnostic-port with N healthy BlockingApps (10 rps each, --no-agent), --no-inject.
# Env: CONFIG (Release), WARMUP seconds before measuring (25; docs/benchmarks.md uses 60), MEASURE seconds (30). MONITOR_ENV: extra environment for the monitor only (e.g. DOTNET_TieredPGO=0). CLI: the loopdoctor.dll to run (default: this tree's build).
N=$1; W=$(cd "$(dirname "$0")/../.." && pwd); OUT=${TMPDIR:-/tmp}; SOCK=$OUT/ld-p9-$N.sock; rm -f $SOCK
env ${MONITOR_ENV:-} dotnet ${CLI:-$W/src/LoopDoctor.Cli/bin/${CONFIG:-Release}/net10.0/loopdoctor.dll} monitor --diagnostic-port $SOCK --no-inject --refresh 10s --prometheus-port 0 > /dev/null 2>$OUT/ld-p9-mon-$N.err &
MON=$!
for i in $(seq 1 50); do [ -S $SOCK ] && break; sleep 0.2; done
APPS=()
for i in $(seq 1 $N); do
  DOTNET_DiagnosticPorts=$SOCK,nosuspend dotnet $W/samples/BlockingApp/bin/${CONFIG:-Release}/net10.0/BlockingApp.dll --urls http://127.0.0.1:0 --scenario healthy --rps 10 --duration 3m --drain 1s --no-agent > /dev/null 2>&1 &
  APPS+=($!)
done
sleep ${WARMUP:-25}
HZ=$(getconf CLK_TCK)
t0=$(awk '{print $14+$15}' /proc/$MON/stat); s0=$(date +%s.%N)
sleep ${MEASURE:-30}
t1=$(awk '{print $14+$15}' /proc/$MON/stat); s1=$(date +%s.%N)
rss=$(awk '/VmRSS/{print $2}' /proc/$MON/status)
cpu=$(echo "($t1-$t0)/$HZ/($s1-$s0)*100" | bc -l)
echo "N=$N cpu%=$(printf %.2f $cpu) rssMB=$(echo "$rss/1024" | bc -l | xargs printf %.1f) attached=$(grep -c 'attached to' $OUT/ld-p9-mon-$N.err)"
for p in "${APPS[@]}"; do kill $p 2>/dev/null; done
kill -TERM $MON; sleep 3; kill -9 $MON 2>/dev/null  # TERM, not INT: a background job of a script ignores SIGINT
wait 2>/dev/null
