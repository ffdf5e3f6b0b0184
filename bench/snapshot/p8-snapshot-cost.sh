#!/bin/bash
# P8 by hand: `diagnose --snapshot` on StallTarget snapshot-bench (~500 MB of small strings, 215 threads, a lock-order
# deadlock with 196 threads queued behind it). Per run: the target's resident memory, the CLI's own snapshot line (dump
# size, WriteDump time, read time), how long the target's 10 ms ticker stood still, the CLI's wall time and peak RSS, and
# whether the deadlock was named. RUNS (default 3) fresh targets in turn.
set -u
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
dotnet build tests/TestTargets/StallTarget -c Release > /dev/null && dotnet build src/LoopDoctor.Cli -c Release > /dev/null \
  || { echo "p8: build failed" >&2; exit 2; }
OUT=$(mktemp -d)
for r in $(seq 1 "$RUNS"); do
  dotnet tests/TestTargets/StallTarget/bin/Release/net10.0/StallTarget.dll snapshot-bench > "$OUT/target.log" 2>&1 &
  for _ in $(seq 1 600); do grep -q "ready pid=" "$OUT/target.log" && break; sleep 0.5; done
  PID=$(grep -o "ready pid=[0-9]*" "$OUT/target.log" | cut -d= -f2)
  [ -n "$PID" ] || { echo "p8: the target did not start" >&2; exit 2; }
  RSS=$(awk '/VmRSS/{print int($2/1024)}' "/proc/$PID/status")
  LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
  /usr/bin/time -f "%e %M" -o "$OUT/time" dotnet src/LoopDoctor.Cli/bin/Release/net10.0/loopdoctor.dll \
    diagnose -p "$PID" --duration 2s --no-inject --snapshot --format json > "$OUT/report.json" 2> "$OUT/cli.err"
  SNAP=$(grep -o "snapshot: .*" "$OUT/cli.err" | tail -1)
  STILL=$(grep -o "stalled [0-9]* ms" "$OUT/target.log" | awk '{print $2}' | sort -n | tail -1)
  DEADLOCK=$(grep -c '"kind": *"deadlock"' "$OUT/report.json")
  read -r WALL MAXRSS < <(tail -1 "$OUT/time")  # time prefixes a line when the CLI exits non-zero (findings)
  echo "run $r: target RSS ${RSS} MB, load $LOAD | $SNAP | target stood still ${STILL:-?} ms | CLI wall ${WALL} s, peak RSS $((MAXRSS / 1024)) MB | deadlock findings: $DEADLOCK"
  kill "$PID" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
done
rm -rf "$OUT"
