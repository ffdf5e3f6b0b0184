#!/bin/bash
# The monitor's own CPU in its first 18 s on a saturated target, by JIT setting (docs/benchmarks.md, "The CLI's JIT
# settings"). Per run: a fresh BlockingApp (Release) under `wrk -t1 -c512 /healthy` throughout; 1 s into the load
# `loopdoctor monitor` attaches; its CPU is read from /proc every second. ROUNDS (3) rounds alternate the configurations,
# each an environment for the monitor alone ("-" = none), e.g.:
#   bench/ab/cli-jit-cost.sh - DOTNET_TieredPGO=1 DOTNET_TieredCompilation=0
# CLI: the loopdoctor.dll to run (default: this tree's Release build). Release builds of the CLI and BlockingApp first.
set -u
cd "$(dirname "$0")/../.."
CLI=${CLI:-src/LoopDoctor.Cli/bin/Release/net10.0/loopdoctor.dll}
URL=http://127.0.0.1:5124
[ $# -gt 0 ] || set -- -
one() { # $1: environment for the monitor, or -
  dotnet samples/BlockingApp/bin/Release/net10.0/BlockingApp.dll --urls $URL > /dev/null 2>&1 &
  local app=$! mon prev cur series="" total=0
  for _ in $(seq 1 100); do curl -fs $URL/healthy > /dev/null && break; sleep 0.1; done
  wrk -t1 -c512 -d3s $URL/healthy > /dev/null
  wrk -t1 -c512 -d20s $URL/healthy > /tmp/ld-jit-wrk.out &
  local wrk=$!
  sleep 1
  if [ "$1" = - ]; then dotnet "$CLI" monitor --process-id $app --refresh 1000ms --format json > /dev/null 2>&1 &
  else env "$1" dotnet "$CLI" monitor --process-id $app --refresh 1000ms --format json > /dev/null 2>&1 & fi
  mon=$!
  prev=$(awk '{print $14+$15}' /proc/$mon/stat)
  for _ in $(seq 1 18); do
    sleep 1; cur=$(awk '{print $14+$15}' /proc/$mon/stat)
    series="$series $(( (cur - prev) * 1000 / $(getconf CLK_TCK) ))"; total=$((total + cur - prev)); prev=$cur
  done
  while kill -0 $wrk 2>/dev/null; do sleep 0.2; done
  echo "$1: monitor CPU total $((total * 1000 / $(getconf CLK_TCK))) ms in 18 s; per second:$series; target $(awk '/Requests\/sec/{print $2}' /tmp/ld-jit-wrk.out) rps"
  { kill -9 $mon; wait $mon; } 2>/dev/null; kill $app; while kill -0 $app 2>/dev/null; do sleep 0.1; done
}
for _ in $(seq 1 "${ROUNDS:-3}"); do for c in "$@"; do one "$c"; done; done
