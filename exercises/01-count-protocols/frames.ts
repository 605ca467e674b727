// The frames of exercise 1 and what must happen to them: all pass, IPv4 ones are counted.
import { buildFrame, type Exercise } from "../lib.ts";

const v4 = (l4: "udp" | "tcp" | "icmp", dport = 53) => buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", l4, dport });

export default {
  source: "count.bpf.c",
  read: "docs/01-basics.md, then docs/03-maps.md (a counter in a map)",
  hint: "every frame passes; after them counts[1] (ICMP) must be 3, counts[6] (TCP) 1, counts[17] (UDP) 2 — IPv6 and ARP are not IPv4 and not counted.",
  frames: [
    { what: "IPv4 UDP", frame: v4("udp"), verdict: "PASS" },
    { what: "IPv4 ICMP echo", frame: v4("icmp"), verdict: "PASS" },
    { what: "IPv4 TCP", frame: v4("tcp", 80), verdict: "PASS" },
    { what: "IPv6 UDP", frame: buildFrame({ src: "2001:db8::1", dst: "2001:db8::2" }), verdict: "PASS" },
    { what: "IPv4 ICMP echo", frame: v4("icmp"), verdict: "PASS" },
    { what: "IPv4 UDP", frame: v4("udp"), verdict: "PASS" },
    { what: "IPv4 ICMP echo", frame: v4("icmp"), verdict: "PASS" },
    { what: "a frame cut right after its Ethernet header (says IPv4)", frame: v4("udp").subarray(0, 24), verdict: "PASS", hint: "a frame too short for an IPv4 header must pass uncounted: check the header's end against data_end before reading it." },
  ],
  maps: [{ name: "counts", want: [{ key: 1, value: 3 }, { key: 6, value: 1 }, { key: 17, value: 2 }], hint: "look up counts[ip->protocol] and add 1 (TODO 2); only for IPv4 frames whose whole header is there." }],
} satisfies Exercise;
