#!/bin/bash
# Issue 13: does the GC keyword (Verbose: GCAllocationTick with a stack) cost the target? /healthy under wrk: alone vs
# dotnet-trace with the monitor's runtime keywords vs the same without GC, alternating, 3 rounds. Release build first.
cd "$(dirname "$0")/../.."
run() { # $1 label $2 keywords-or-empty
  dotnet samples/BlockingApp/bin/Release/net10.0/BlockingApp.dll --urls http://127.0.0.1:5124 > /dev/null 2>&1 & sleep 4
  local APP=$(pgrep -f "BlockingApp.dll --urls http://127.0.0.1:5124")
  wrk -t1 -c512 -d2s http://127.0.0.1:5124/healthy > /dev/null
  local TR=
  if [ -n "$2" ]; then ${DOTNET_TRACE:-dotnet-trace} collect -p $APP --providers "Microsoft-Windows-DotNETRuntime:$2:5" -o /tmp/gcab.nettrace > /dev/null 2>&1 & TR=$!; sleep 2; fi
  local r=$(wrk -t1 -c512 -d8s http://127.0.0.1:5124/healthy | awk '/Requests\/sec/{print $2}')
  echo "$1 $r"
  [ -n "$TR" ] && kill $TR 2>/dev/null; sleep 1; kill $APP; wait 2>/dev/null; rm -f /tmp/gcab.nettrace
}
for i in 1 2 3; do run alone ""; run gcverbose 0x40000014019; run nogc 0x40000014018; done
