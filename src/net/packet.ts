// packet.ts — build test frames byte by byte, with correct checksums.
// Used by `lab traffic`, the tests and the benchmarks: one builder, so every frame is honest.
import { parseIPv4, parseIPv6, parseMac } from "./addr.ts";
import { UsageError } from "../errors.ts";

export type L4 = "udp" | "tcp" | "icmp" | "none";

export interface FrameSpec {
  srcMac?: string;
  dstMac?: string;
  /** 802.1Q tags, outermost first (802.1ad outer when two). */
  vlans?: number[];
  src: string;
  dst: string;
  l4?: L4;
  /** With l4 "none": the IP protocol number to put in the header (default 253 for IPv4, an
   *  experimental number; 59 "no next header" for IPv6). */
  proto?: number;
  sport?: number;
  dport?: number;
  /** UDP/TCP/ICMP payload. */
  payload?: Uint8Array;
  ttl?: number;
  /** Minimum frame length (without FCS): the payload is zero-padded up to it. */
  frameSize?: number;
}

/** One's-complement sum of 16-bit words, for IP/UDP/TCP/ICMP checksums. */
export function csumAdd(sum: number, b: Uint8Array): number {
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (b.length & 1) sum += b[b.length - 1] << 8;
  return sum;
}
export function csumFold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function l4Header(kind: L4, sport: number, dport: number, v6: boolean): Uint8Array {
  if (kind === "udp") return Uint8Array.from([sport >> 8, sport & 255, dport >> 8, dport & 255, 0, 0, 0, 0]);
  if (kind === "tcp") {
    const h = new Uint8Array(20);
    h.set([sport >> 8, sport & 255, dport >> 8, dport & 255], 0);
    h[12] = 5 << 4; // data offset
    h[13] = 0x02; // SYN
    h[14] = 0xff; // window
    h[15] = 0xff;
    return h;
  }
  if (kind === "icmp") return Uint8Array.from([v6 ? 128 : 8, 0, 0, 0, 0x12, 0x34, 0, 1]); // echo request
  return new Uint8Array(0);
}

const PROTO: Record<L4, number> = { udp: 17, tcp: 6, icmp: 1, none: 59 };

export function buildFrame(spec: FrameSpec): Uint8Array {
  const s4 = parseIPv4(spec.src), d4 = parseIPv4(spec.dst);
  const s6 = s4 ? null : parseIPv6(spec.src), d6 = d4 ? null : parseIPv6(spec.dst);
  for (const [flag, text, ok] of [["src", spec.src, s4 ?? s6], ["dst", spec.dst, d4 ?? d6]] as const) if (!ok) throw new UsageError(`invalid --${flag} address "${text}" (IPv4 or IPv6, e.g. 198.18.0.1 or 2001:db8::1)`);
  if (!(s4 && d4) && !(s6 && d6)) throw new UsageError(`--src ${spec.src} and --dst ${spec.dst} must both be IPv4 or both IPv6 addresses`);
  const v6 = !s4;
  const l4 = spec.l4 ?? "udp";
  let proto = PROTO[l4];
  if (l4 === "icmp" && v6) proto = 58;
  if (l4 === "none") proto = spec.proto ?? (v6 ? 59 : 253); // 253: experimental
  const hdr = l4Header(l4, spec.sport ?? 1024, spec.dport ?? 9, v6);
  const vlans = spec.vlans ?? [];
  const l2len = 14 + 4 * vlans.length;
  const l3len = v6 ? 40 : 20;
  let payload = spec.payload ?? new Uint8Array(0);
  if (spec.frameSize) {
    // A minimum: short frames are padded (Ethernet's 60 bytes), longer content keeps its length.
    const room = spec.frameSize - l2len - l3len - hdr.length;
    if (room > payload.length) {
      const p = new Uint8Array(room);
      p.set(payload);
      payload = p;
    }
  }
  const seg = new Uint8Array(hdr.length + payload.length);
  seg.set(hdr);
  seg.set(payload, hdr.length);
  if (l4 === "udp") seg.set([seg.length >> 8, seg.length & 255], 4);

  const frame = new Uint8Array(l2len + l3len + seg.length);
  const mac = (m: string | undefined, d: string) => {
    const b = parseMac(m ?? d);
    if (!b) throw new UsageError(`invalid MAC address "${m}"`);
    return b;
  };
  frame.set(mac(spec.dstMac, "02:78:74:00:00:02"), 0);
  frame.set(mac(spec.srcMac, "02:78:74:00:00:01"), 6);
  let off = 12;
  vlans.forEach((id, i) => {
    const tpid = vlans.length > 1 && i === 0 ? 0x88a8 : 0x8100;
    frame.set([tpid >> 8, tpid & 255, (id >> 8) & 0x0f, id & 255], off);
    off += 4;
  });
  const etype = v6 ? 0x86dd : 0x0800;
  frame.set([etype >> 8, etype & 255], off);
  const ip = l2len;
  // Pseudo-header sum for the L4 checksum.
  let pseudo = 0;
  if (!v6) {
    const tot = 20 + seg.length;
    frame.set([0x45, 0, tot >> 8, tot & 255, 0, 1, 0x40, 0, spec.ttl ?? 64, proto, 0, 0], ip);
    frame.set(s4!, ip + 12);
    frame.set(d4!, ip + 16);
    const c = csumFold(csumAdd(0, frame.subarray(ip, ip + 20)));
    frame.set([c >> 8, c & 255], ip + 10);
    pseudo = csumAdd(csumAdd(0, s4!), d4!) + proto + seg.length;
  } else {
    frame.set([0x60, 0, 0, 0, seg.length >> 8, seg.length & 255, proto, spec.ttl ?? 64], ip);
    frame.set(s6!, ip + 8);
    frame.set(d6!, ip + 24);
    pseudo = csumAdd(csumAdd(0, s6!), d6!) + proto + seg.length;
  }
  frame.set(seg, ip + l3len);
  const csumOff = { udp: 6, tcp: 16, icmp: 2, none: -1 }[l4];
  if (csumOff >= 0) {
    const base = l4 === "icmp" && !v6 ? 0 : pseudo; // ICMPv4 has no pseudo-header
    let c = csumFold(csumAdd(base, seg));
    if (l4 === "udp" && c === 0) c = 0xffff;
    frame.set([c >> 8, c & 255], ip + l3len + csumOff);
  }
  return frame;
}

/** A DNS query (A, IN, RD set) for a name, as a UDP payload. */
export function dnsQuery(name: string, id = 0x1234, qtype = 1): Uint8Array {
  const labels = name.replace(/\.$/, "").split(".").filter(Boolean);
  const out: number[] = [id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const l of labels) out.push(l.length, ...Buffer.from(l));
  out.push(0, qtype >> 8, qtype & 255, 0, 1);
  return Uint8Array.from(out);
}
