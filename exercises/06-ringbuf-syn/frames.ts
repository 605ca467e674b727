// The frames of exercise 6: SYNs (each must bring one record), and TCP that is not an opening SYN,
// UDP, IPv6 (no record).
import { buildFrame, withIpOptions, type Exercise } from "../lib.ts";

const syn = (src: string, sport: number, dport: number) => buildFrame({ src, dst: "198.18.0.2", l4: "tcp", sport, dport });

/** Same segment, other flags (byte 13 of the TCP header; its checksum is not checked here). */
function flags(f: Uint8Array, bits: number, l4 = 34): Uint8Array {
  const r = Uint8Array.from(f);
  r[l4 + 13] = bits;
  return r;
}

/** The record a SYN must produce: the addresses and ports as in the packet, the length in host order. */
function record(f: Uint8Array, l3 = 14): string {
  const b = Buffer.from(f);
  const l4 = l3 + (b[l3] & 15) * 4;
  const len = Buffer.alloc(4);
  len.writeUInt32LE(f.length);
  return Buffer.concat([b.subarray(l3 + 12, l3 + 20), b.subarray(l4, l4 + 4), len]).toString("hex");
}

const a = syn("198.18.0.1", 40000, 22), b = syn("198.18.3.3", 1234, 443), opts = withIpOptions(syn("198.18.0.9", 5555, 80), 8);

export default {
  source: "syn.bpf.c",
  read: "docs/06-sampling.md (two ways out of the kernel: ring buffer and perf buffer)",
  hint: "every opening TCP SYN over IPv4 (SYN set, ACK not) gets one record in `syns`: saddr, daddr, sport, dport as in the packet, then the frame length; nothing else gets one. Every frame passes.",
  rings: ["syns"],
  frames: [
    { what: "a SYN from 198.18.0.1:40000 to port 22", frame: a, verdict: "PASS", records: { syns: [record(a)] } },
    { what: "a SYN-ACK (an answer, not an attempt)", frame: flags(a, 0x12), verdict: "PASS", hint: "a SYN-ACK has the ACK flag too: only SYN without ACK is a connection attempt." },
    { what: "a SYN from 198.18.3.3:1234 to port 443", frame: b, verdict: "PASS", records: { syns: [record(b)] }, hint: "the record is 16 bytes: saddr, daddr, sport, dport copied from the packet as they are (network byte order), then the frame's length as a __u32." },
    { what: "a plain ACK", frame: flags(b, 0x10), verdict: "PASS" },
    { what: "UDP to port 22", frame: buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", dport: 22 }), verdict: "PASS" },
    { what: "a SYN whose IP header has 8 bytes of options", frame: opts, verdict: "PASS", records: { syns: [record(opts)] }, hint: "the TCP header starts ip->ihl * 4 bytes after the IP header's start." },
    { what: "an IPv6 SYN (IPv4 only in this exercise)", frame: buildFrame({ src: "2001:db8::1", dst: "2001:db8::2", l4: "tcp", dport: 22 }), verdict: "PASS" },
  ],
} satisfies Exercise;
