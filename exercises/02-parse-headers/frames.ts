// The frames of exercise 2: tagged and untagged IPv4 and IPv6, and frames cut short inside a
// header — which must pass uncounted, never be read past their end.
import { buildFrame, type Exercise } from "../lib.ts";

const udp4tagged = buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", vlans: [5] });
const tcp6 = buildFrame({ src: "2001:db8::1", dst: "2001:db8::2", l4: "tcp", dport: 443, vlans: [10, 20] });

export default {
  source: "parse.bpf.c",
  read: "docs/02-verifier.md (the rules the verifier enforces)",
  hint: "every frame passes; counts[6] (TCP) must be 2, counts[17] (UDP) 1, counts[58] (ICMPv6) 1. Frames cut short inside a header are passed and not counted.",
  frames: [
    { what: "IPv4 UDP, VLAN 5", frame: udp4tagged, verdict: "PASS" },
    { what: "IPv6 TCP, VLANs 10 and 20 (802.1ad outside 802.1Q)", frame: tcp6, verdict: "PASS" },
    { what: "IPv6 ICMPv6 echo", frame: buildFrame({ src: "2001:db8::1", dst: "2001:db8::2", l4: "icmp" }), verdict: "PASS" },
    { what: "IPv4 TCP", frame: buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", l4: "tcp", dport: 22 }), verdict: "PASS" },
    { what: "a VLAN tag cut after 2 of its 4 bytes", frame: udp4tagged.subarray(0, 16), verdict: "PASS" },
    { what: "an IPv6 header cut after 20 of its 40 bytes", frame: tcp6.subarray(0, 22 + 20), verdict: "PASS" },
  ],
  maps: [{ name: "counts", want: [{ key: 6, value: 2 }, { key: 17, value: 1 }, { key: 58, value: 1 }] }],
} satisfies Exercise;
