#!/bin/sh
# Stop the NSD that start.sh started (it takes its child processes down with it).
PID=/run/xdptool-docs-nsd.pid
[ -s $PID ] || { echo "nsd is not running"; exit 0; }
P=$(cat $PID)
kill "$P" 2>/dev/null
for i in $(seq 50); do
	kill -0 "$P" 2>/dev/null || { rm -f $PID; echo "nsd stopped"; exit 0; }
	sleep 0.1
done
echo "nsd (pid $P) did not stop" >&2
exit 1
