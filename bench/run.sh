#!/usr/bin/env bash
# LoopDoctor's performance suite: builds what the rows need, installs the load tools when missing, runs
# bench/LoopDoctor.Bench.Harness and writes docs/benchmarks.md (docs/benchmarks.md and the rows are described there).
#
#   ./bench/run.sh                      every row (P7 alone takes 10 minutes)
#   ./bench/run.sh --only T1            the target's cost of an induced GC (~3 min; LOOPDOCTOR_BENCH_T1_HEAPS=graph:50,arrays:2048 picks heaps)
#   ./bench/run.sh --only P1,P3         some rows; the other sections of docs/benchmarks.md are kept
#   ./bench/run.sh --smoke              a few seconds per row, proves the harness works (CI); writes bench/out/smoke.md
#   further options go to the harness: --pairs N (P1/P5, default 5), --runs N, --memory-minutes N, --out FILE
#
# Exit code: the harness's (0 every selected row ran, 1 a row could not run, 2 bad arguments).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
command_line="./bench/run.sh${*:+ $*}"

smoke=0
for a in "$@"; do [ "$a" = "--smoke" ] && smoke=1; done

log() { echo "bench/run.sh: $*" >&2; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

# wrk drives P1 and P5 (Debian package).
if ! command -v wrk >/dev/null 2>&1; then
  log "installing Debian package 'wrk' ..."
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends wrk; } >/dev/null 2>&1 \
    || log "could not install wrk: P1 and P5 will be skipped"
fi

# dotnet-trace: P5's comparison and P6's trace recording. Not in smoke mode (it needs the network for a first restore).
if [ "$smoke" -eq 0 ] && [ ! -x bench/.tools/dotnet-trace ]; then
  log "installing dotnet-trace into bench/.tools ..."
  dotnet tool install dotnet-trace --tool-path bench/.tools >/dev/null 2>&1 || log "could not install dotnet-trace: P5 compares without it, P6 is skipped"
fi

build() { # build a project in Release when it exists; quiet unless it fails
  local project=$1
  [ -f "$project" ] || return 0
  local out
  if ! out=$(dotnet build "$project" -c Release -nologo -v q 2>&1); then
    echo "$out" >&2
    log "build failed: $project"
    exit 1
  fi
}

log "building ..."
build bench/LoopDoctor.Bench.Harness/LoopDoctor.Bench.Harness.csproj
build bench/LoopDoctor.Benchmarks/LoopDoctor.Benchmarks.csproj
build samples/BlockingApp/BlockingApp.csproj
build src/LoopDoctor.Cli/LoopDoctor.Cli.csproj
build bench/LoopDoctor.GcTarget/LoopDoctor.GcTarget.csproj

exec dotnet bench/LoopDoctor.Bench.Harness/bin/Release/net10.0/LoopDoctor.Bench.Harness.dll --repo "$repo" --command "$command_line" "$@"
