#!/bin/sh
# Start NSD (docs/nsd/nsd.conf) in the lab's device-under-test namespace, and return once it answers
# over TCP — the path a client takes after a TC=1 reply, which XDP never touches.
set -e
LAB=${XDPTOOL_LAB:-xl}
PID=/run/xdptool-docs-nsd.pid
# One left over from an earlier run may serve a lab namespace that no longer exists: replace it.
[ -s $PID ] && sh "$(dirname "$0")/stop.sh" >/dev/null
ip netns exec "$LAB-dut" nsd -c docs/nsd/nsd.conf -P $PID
for i in $(seq 50); do
	if ip netns exec "$LAB-gen" dig @198.18.0.2 +tcp +short +tries=1 +time=1 ns.example.test | grep -q 198.18.0.2; then
		echo "nsd answers for example.test and other.test on 198.18.0.2 and 2001:db8::2 (pid $(cat $PID))"
		exit 0
	fi
	sleep 0.1
done
echo "nsd did not answer; see /run/xdptool-docs-nsd.log" >&2
exit 1
