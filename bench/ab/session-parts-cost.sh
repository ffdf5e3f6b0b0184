#!/bin/bash
# What each part of `monitor`'s EventPipe session costs the target, without the monitor's own CPU (docs/benchmarks.md,
# "P5 in session 10"). Per run: a fresh BlockingApp (Release), 2 s of warm-up load, then bench/LoopDoctor.SessionCost opens
# the named parts of the session (SessionProviders) and reads the stream, and `wrk -t1 -c512 -d8s /healthy` measures;
# the server's CPU per request from /proc. ROUNDS (2) rounds alternate the configurations, e.g.:
#   bench/ab/session-parts-cost.sh alone runtime runtime,gc runtime,gc,metrics runtime,gc,metrics,agent
set -u
cd "$(dirname "$0")/../.."
URL=http://127.0.0.1:5124
HZ=$(getconf CLK_TCK)
dotnet build bench/LoopDoctor.SessionCost -c Release > /dev/null && dotnet build samples/BlockingApp -c Release > /dev/null \
  || { echo "session-parts-cost: build failed" >&2; exit 2; }
[ $# -gt 0 ] || set -- alone runtime,gc,metrics,agent
one() { # $1: alone, or the parts to open
  dotnet samples/BlockingApp/bin/Release/net10.0/BlockingApp.dll --urls $URL > /dev/null 2>&1 &
  local app=$! tool="" out
  out=$(mktemp)
  for _ in $(seq 1 100); do curl -fs $URL/healthy > /dev/null && break; sleep 0.1; done
  wrk -t1 -c512 -d2s $URL/healthy > /dev/null
  if [ "$1" != alone ]; then
    dotnet bench/LoopDoctor.SessionCost/bin/Release/net10.0/LoopDoctor.SessionCost.dll $app "$1" > "$out" 2>&1 &
    tool=$!
    for _ in $(seq 1 100); do grep -q ready "$out" && break; sleep 0.1; done
    grep -q ready "$out" || { echo "session-parts-cost: $1: $(cat "$out")" >&2; }
  fi
  local c0 c1 rps
  c0=$(awk '{print $14+$15}' /proc/$app/stat)
  rps=$(wrk -t1 -c512 -d8s $URL/healthy | awk '/Requests\/sec/{print $2}')
  c1=$(awk '{print $14+$15}' /proc/$app/stat)
  echo "$1: $rps rps, server $(echo "($c1 - $c0) * 1000000 / $HZ / ($rps * 8)" | bc -l | xargs printf %.1f) µs of CPU per request"
  [ -n "$tool" ] && { kill -9 $tool; wait $tool; } 2>/dev/null
  kill $app; while kill -0 $app 2>/dev/null; do sleep 0.1; done
  rm -f "$out"
}
for _ in $(seq 1 "${ROUNDS:-2}"); do for c in "$@"; do one "$c"; done; done
