#!/bin/bash
# P9's second half: each monitored target's RPS ratio, as in P5. N healthy BlockingApps (10 rps each, --no-agent) connect
# to one `loopdoctor monitor --diagnostic-port SOCKET --no-inject`; after WARMUP seconds each target in turn is saturated
# (`wrk -t1 -c128`, 2 s warm, MEASURE s measured) on /healthy while the others keep their 10 rps. Phases alternate
# "with" (the sidecar connected) and "without" (the sidecar stopped: the runtime ends the session when its socket closes,
# and the targets keep running), ROUNDS times each, so a target's ratio is median(with) / median(without).
# One line per target and phase, then one summary line per target. Env: CONFIG (Release), WARMUP (60), MEASURE (8),
# ROUNDS (2), PORT0 (5300: target i listens on PORT0+i).
set -u
N=$1; W=$(cd "$(dirname "$0")/../.." && pwd); OUT=${TMPDIR:-/tmp}; SOCK=$OUT/ld-p9rps-$N.sock
CFG=${CONFIG:-Release}; PORT0=${PORT0:-5300}; MEASURE=${MEASURE:-8}; ROUNDS=${ROUNDS:-2}
MON=""
start_monitor() {
  rm -f $SOCK
  dotnet $W/src/LoopDoctor.Cli/bin/$CFG/net10.0/loopdoctor.dll monitor --diagnostic-port $SOCK --no-inject --refresh 10s --prometheus-port 0 > /dev/null 2>>$OUT/ld-p9rps-mon-$N.err &
  MON=$!
  for _ in $(seq 1 50); do [ -S $SOCK ] && break; sleep 0.2; done
}
stop_monitor() {
  kill -TERM $MON 2>/dev/null  # not INT: a background job of a script ignores SIGINT
  for _ in $(seq 1 50); do kill -0 $MON 2>/dev/null || break; sleep 0.2; done
  kill -9 $MON 2>/dev/null; MON=""
}
# Waits until the monitor has said "attached to" for N targets since it started (the runtime retries its connect).
wait_attached() {
  local before=$1
  for _ in $(seq 1 150); do
    [ $(( $(grep -c 'attached to' $OUT/ld-p9rps-mon-$N.err) - before )) -ge $N ] && return 0; sleep 0.2
  done
  echo "warning: not every target reattached within 30 s" >&2
}
rps() { # $1: port
  wrk -t1 -c128 -d2s http://127.0.0.1:$1/healthy > /dev/null
  wrk -t1 -c128 -d${MEASURE}s http://127.0.0.1:$1/healthy | awk '/Requests\/sec/{print $2}'
}
: > $OUT/ld-p9rps-mon-$N.err
start_monitor
APPS=()
for i in $(seq 1 $N); do
  DOTNET_DiagnosticPorts=$SOCK,nosuspend dotnet $W/samples/BlockingApp/bin/$CFG/net10.0/BlockingApp.dll --urls http://127.0.0.1:$((PORT0 + i)) --scenario healthy --rps 10 --duration 30m --drain 1s --no-agent > /dev/null 2>&1 &
  APPS+=($!)
done
wait_attached 0
sleep ${WARMUP:-60}
declare -A WITH WITHOUT
for r in $(seq 1 $ROUNDS); do
  for phase in with without; do
    if [ $phase = without ]; then stop_monitor; sleep 2; else [ -n "$MON" ] || { n0=$(grep -c 'attached to' $OUT/ld-p9rps-mon-$N.err); start_monitor; wait_attached $n0; sleep 5; }; fi
    for i in $(seq 1 $N); do
      v=$(rps $((PORT0 + i)))
      echo "round=$r phase=$phase target=$i rps=$v"
      if [ $phase = with ]; then WITH[$i]="${WITH[$i]:-} $v"; else WITHOUT[$i]="${WITHOUT[$i]:-} $v"; fi
    done
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for i in $(seq 1 $N); do
  a=$(echo ${WITH[$i]} | median); b=$(echo ${WITHOUT[$i]} | median)
  echo "N=$N target=$i with=$a without=$b ratio=$(echo "$a/$b" | bc -l | xargs printf %.3f)"
done
for p in "${APPS[@]}"; do kill $p 2>/dev/null; done
[ -n "$MON" ] && stop_monitor
for p in "${APPS[@]}"; do while kill -0 $p 2>/dev/null; do sleep 0.2; done; done
