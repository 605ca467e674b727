#!/usr/bin/env bash
# Runs the whole test suite against dist/xdptool (built by test/setup.sh) on the real kernel,
# in a lab of its own ($XDPTOOL_LAB, default "xt"). Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
export XDPTOOL_LAB="${XDPTOOL_LAB:-xt}"
log=$(mktemp)
# One file at a time: the tests share one kernel and one lab.
bun test --timeout 300000 "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
pass=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
fail=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
rm -f "$log"
[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1 # the runner itself failed
echo "${pass} passed, ${fail} failed"
[ "$rc" -eq 0 ] && [ "$fail" -eq 0 ]
