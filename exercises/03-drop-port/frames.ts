// The frames of exercise 3: ports 22 and 23 are blocked, over TCP and UDP, IPv4 and IPv6.
import { buildFrame, withIpOptions, type Exercise } from "../lib.ts";

const v4 = (l4: "udp" | "tcp" | "icmp", dport: number, sport = 40000) => buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", l4, dport, sport });
const v6 = (l4: "udp" | "tcp", dport: number) => buildFrame({ src: "2001:db8::1", dst: "2001:db8::2", l4, dport, sport: 40000 });

export default {
  source: "drop_port.bpf.c",
  read: "docs/02-verifier.md (bounds checks), docs/05-advanced-maps.md (a hash lookup)",
  hint: "drop TCP and UDP to a port in `blocked` (22 and 23 here), IPv4 and IPv6; pass all else.",
  frames: [
    { what: "IPv4 TCP to port 22", frame: v4("tcp", 22), verdict: "DROP" },
    { what: "IPv4 TCP to port 80", frame: v4("tcp", 80), verdict: "PASS" },
    { what: "IPv4 UDP to port 23", frame: v4("udp", 23), verdict: "DROP" },
    { what: "IPv4 UDP from port 22 to port 5353 (the source port does not count)", frame: v4("udp", 5353, 22), verdict: "PASS", hint: "the destination port is the second 16-bit field of the TCP/UDP header (dest), not the first." },
    { what: "IPv6 TCP to port 22", frame: v6("tcp", 22), verdict: "DROP", hint: "IPv6 too: after the 40-byte IPv6 header, nexthdr says TCP (6) or UDP (17)." },
    { what: "IPv6 UDP to port 53", frame: v6("udp", 53), verdict: "PASS" },
    { what: "IPv4 ICMP echo", frame: v4("icmp", 0), verdict: "PASS" },
    { what: "IPv4 TCP to port 22, with 4 bytes of IP options", frame: withIpOptions(v4("tcp", 22)), verdict: "DROP", hint: "with IP options the TCP header starts at ip->ihl * 4 bytes after the IP header's start, not at sizeof(struct iphdr)." },
    { what: "IPv4 TCP to port 22 cut short in its TCP header", frame: v4("tcp", 22).subarray(0, 14 + 20 + 3), verdict: "PASS", hint: "the ports are not all there: check the L4 header's end against data_end before reading it, and pass." },
  ],
  maps: [{ name: "blocked", seed: [{ key: 22, value: 1 }, { key: 23, value: 1 }] }],
} satisfies Exercise;
