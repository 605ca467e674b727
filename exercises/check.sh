#!/usr/bin/env bash
# check.sh NAME [--solution] [--live] — does exercise NAME's program do its task? Compiles it, runs
# the exercise's frames through it with `xdptool run`, and compares every verdict, output frame and
# map with what the task wants; --live then loads it on the lab's DUT end ($XDPTOOL_LAB, default
# xl; brought up if needed) and judges it on real traffic, where the exercise says what that shows. Exit 0: it does; 1: it does not (the first difference and a hint);
# 2: no such exercise. XDPTOOL=path picks the binary (default: dist/xdptool, else xdptool on PATH).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
PATH="$here/../node_modules/.bin:$PATH"
exec bun "$here/check.ts" "$@"
