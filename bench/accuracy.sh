#!/usr/bin/env bash
# What LoopDoctor names on real code (issue 12): every BlockingApp scenario × runtime × {attach at start, after
# warm-up} × {live, offline, --no-inject}, each cell judged against the right answer in
# bench/LoopDoctor.Bench.Harness/Accuracy/RightAnswer.cs, written to docs/accuracy.md. On .NET 10 (installed) every
# column; on .NET 8 and 9 (BlockingApp published self-contained, runtime packs from NuGet) the after-warm-up columns.
#
#   ./bench/accuracy.sh                               the whole matrix on .NET 8, 9 and 10 (~35 min on 2 cores)
#   ./bench/accuracy.sh --runtime 10                  one runtime (or a list: --runtime 8,10); .NET 10 alone ~15 min
#   ./bench/accuracy.sh --scenarios taskwait,sleep    some scenarios (--out FILE to write elsewhere)
#   further options: --session N (seconds per diagnosis, default 8), --warm-up N (default 12, at least 10)
#
# Exit code: the harness's (0 every cell ran, 1 a cell could not run, 2 bad arguments).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "bench/accuracy.sh: $*" >&2; }

# dotnet-trace records the offline cells (the recipe a user would run).
if [ ! -x bench/.tools/dotnet-trace ]; then
  log "installing dotnet-trace into bench/.tools ..."
  dotnet tool install dotnet-trace --tool-path bench/.tools >/dev/null 2>&1 || log "could not install dotnet-trace: the offline cells will say so"
fi

for project in samples/BlockingApp src/LoopDoctor.Cli bench/LoopDoctor.Bench.Harness; do
  if ! out=$(dotnet build "$project" -c Release -nologo -v q 2>&1); then
    echo "$out" >&2
    log "build of $project failed"
    exit 1
  fi
done

exec dotnet bench/LoopDoctor.Bench.Harness/bin/Release/net10.0/LoopDoctor.Bench.Harness.dll accuracy "$@"
