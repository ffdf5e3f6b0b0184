#!/usr/bin/env bash
# Runs every LoopDoctor test on a fresh machine: installs what the tests need when it is missing
# (Debian's prometheus package, for promtool and the real Prometheus server; chromium, which renders the HTML report;
# tmux, the real terminal of monitor's live view), then runs `dotnet test`.
# Exit code: dotnet test's (0 = all passed). Extra arguments go to `dotnet test` (e.g. --filter Name~Probe).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1 || ! command -v wrk >/dev/null 2>&1; then
  echo "test.sh: installing Debian packages 'prometheus' (promtool, server) and 'wrk' (benchmark smoke test) ..." >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus wrk >/dev/null
  # The package starts a system service on some machines; the tests start their own servers on ephemeral ports.
  $SUDO systemctl stop prometheus prometheus-node-exporter >/dev/null 2>&1 || true
  pkill -x prometheus-node-exporter >/dev/null 2>&1 || true
fi

if ! command -v chromium >/dev/null 2>&1 || ! command -v tmux >/dev/null 2>&1; then
  echo "test.sh: installing Debian packages 'chromium' and 'fonts-dejavu-core' (the HTML report's browser test and screenshot) and 'tmux' (the live view's terminal test) ..." >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core tmux >/dev/null
fi

# A .NET process killed before it could clean up leaves its diagnostics socket behind; once pids wrap around, a new
# process can share its pid with thousands of such files, and the tests' attach and fleet connections were seen to
# hang on them (FleetMonitorTests failed 3 of 4 runs with 2,783 stale sockets, 0 of 3 without). Remove those of dead pids only.
# The runtime's debugger pipes (clr-debug-pipe-PID-KEY-in/out) are left the same way.
for leftover in "${TMPDIR:-/tmp}"/dotnet-diagnostic-*-socket "${TMPDIR:-/tmp}"/clr-debug-pipe-*; do
  [ -e "$leftover" ] || continue
  pid=${leftover##*/}; pid=${pid#dotnet-diagnostic-}; pid=${pid#clr-debug-pipe-}; pid=${pid%%-*}
  case "$pid" in ''|*[!0-9]*) continue ;; esac
  [ -d "/proc/$pid" ] || rm -f "$leftover"
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# -m:1 runs the test projects one after another: many tests measure a real, stalled thread pool, and three suites
# competing for 2 cores would measure each other instead.
dotnet test LoopDoctor.sln -c Release -m:1 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain closing line for CI readers: "N passed, N failed, N skipped".
awk '/(Passed|Failed)! +- +Failed: +[0-9]+, +Passed: +[0-9]+, +Skipped: +[0-9]+/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
