// oracles/responder.ts — the responder's behaviour written plainly in TypeScript, byte by byte: the
// oracle the fuzz test holds the kernel program to (test/responder.test.ts). It decides like
// responder.h but is written independently: names are compared as strings at label boundaries
// (no hashing), checksums are summed over the finished reply (no incremental tricks).
import { csumAdd, csumFold } from "../../src/net/packet.ts";
import type { Prefix } from "../../src/net/addr.ts";
import { walkFrame } from "../../src/net/frame.ts";

export interface ReferenceConfig {
  ports: number[];
  /** Lowercased names; empty = every name. */
  qnames: string[];
  /** The interface's MAC. */
  mac: Uint8Array;
  /** The host's local prefixes (its RTN_LOCAL routes). */
  local: Prefix[];
  /** --address: the only destinations answered; empty = every local one. */
  addresses?: Prefix[];
}

function inPrefix(a: Uint8Array, p: Prefix): boolean {
  if (a.length !== p.addr.length) return false;
  for (let bit = 0; bit < p.len; bit++) if (((a[bit >> 3] ^ p.addr[bit >> 3]) & (0x80 >> (bit & 7))) !== 0) return false;
  return true;
}

export type ReferenceVerdict = { action: "pass" | "drop"; why: string } | { action: "tx"; reply: Uint8Array };

const pass = (why: string): ReferenceVerdict => ({ action: "pass", why });
const drop = (why: string): ReferenceVerdict => ({ action: "drop", why });
/** Source ports no reply may go to: none, echo, daytime, qotd, chargen, time. */
const REFLECT_PORTS = [0, 7, 13, 17, 19, 37];

/** The question name's labels (lowercased), or null if it is not a plain name inside [off, end). */
function readName(b: Uint8Array, off: number, end: number): { labels: string[]; wireLen: number } | null {
  const labels: string[] = [];
  let i = off;
  for (;;) {
    if (i >= end || i - off >= 255) return null;
    const n = b[i];
    if (n === 0) return { labels, wireLen: i - off + 1 };
    if (n > 63) return null;
    if (i + 1 + n > end) return null;
    labels.push(Buffer.from(b.subarray(i + 1, i + 1 + n)).toString("latin1").replace(/[A-Z]/g, (c) => c.toLowerCase()));
    i += 1 + n;
  }
}

function nameSelected(labels: string[], qnames: string[]): boolean {
  if (qnames.length === 0) return true;
  for (let k = 0; k < labels.length; k++) if (qnames.includes(labels.slice(k).join("."))) return true;
  return false;
}

export function reference(frame: Uint8Array, cfg: ReferenceConfig): ReferenceVerdict {
  const b = frame;
  const u16 = (o: number) => (b[o] << 8) | b[o + 1];
  if (b.length < 14) return pass("short");
  // VLAN tags as the shared walk reads them (src/net/frame.ts); from L3 on, the responder's own
  // stricter checks below.
  const w = walkFrame(b);
  if (w.vlans.length > 1) return pass("two vlan tags");
  const l3 = w.l3, etype = w.etherType; // 0 when a tag is cut short: "not ip" below
  if ((b[0] | b[6]) & 1) return pass("group MAC address");
  if (b.subarray(0, 6).some((x, i) => x !== cfg.mac[i])) return pass("another station's MAC");
  let l4: number, ipEnd: number;
  const v6 = etype === 0x86dd;
  if (etype === 0x0800) {
    if (b.length < l3 + 20) return pass("short ipv4");
    if (b[l3] !== 0x45) return pass("ipv4 version/options");
    if (u16(l3 + 6) & 0x3fff) return pass("fragment");
    if (b[l3 + 9] !== 17) return pass("not udp");
    const d0 = b[l3 + 16], s0 = b[l3 + 12];
    if (d0 >= 224 || s0 >= 224 || d0 === 0 || s0 === 0) return pass("not a unicast address");
    l4 = l3 + 20;
    ipEnd = l3 + u16(l3 + 2);
  } else if (v6) {
    if (b.length < l3 + 40) return pass("short ipv6");
    if (b[l3] >> 4 !== 6) return pass("ipv6 version");
    if (b[l3 + 6] !== 17) return pass("not udp / extension headers");
    if (b[l3 + 8] === 0xff || b[l3 + 24] === 0xff) return pass("multicast address");
    l4 = l3 + 40;
    ipEnd = l4 + u16(l3 + 4);
  } else return pass("not ip");
  const dst = v6 ? b.subarray(l3 + 24, l3 + 40) : b.subarray(l3 + 16, l3 + 20);
  if (!cfg.local.some((p) => inPrefix(dst, p))) return pass("transit: not a local address");
  if (cfg.addresses?.length && !cfg.addresses.some((p) => inPrefix(dst, p))) return pass("not a --address");
  if (b.length < l4 + 8) return pass("short udp");
  if (!cfg.ports.includes(u16(l4 + 2))) return pass("port");
  // A query to us from a source no reply may go to is dropped, before anything else is judged.
  if (REFLECT_PORTS.includes(u16(l4))) return drop("reflection port");
  const src = v6 ? b.subarray(l3 + 8, l3 + 24) : b.subarray(l3 + 12, l3 + 16);
  // IPv6: ::/96 (::, ::1, IPv4-compatible) and ::ffff:0:0/96 (IPv4-mapped, never on the wire).
  const v6Reserved = (x: Uint8Array) => x.subarray(0, 10).every((y) => y === 0) && x[10] === x[11] && (x[10] === 0 || x[10] === 0xff);
  const loopback = v6 ? v6Reserved(src) : src[0] === 127;
  if (loopback || cfg.local.some((p) => inPrefix(src, p))) return drop("martian source");
  if (v6 && u16(l4 + 6) === 0) return pass("ipv6 udp checksum 0");
  if (b.length < l4 + 8 + 12) return pass("short dns");
  const udpLen = u16(l4 + 4);
  const udpEnd = l4 + udpLen;
  if (ipEnd > b.length || udpEnd !== ipEnd || udpLen < 20) return pass("lengths");
  const d = l4 + 8;
  if (b[d + 2] & 0xf8) return pass("QR or opcode");
  if (u16(d + 4) !== 1 || u16(d + 6) || u16(d + 8) || u16(d + 10) > 1) return pass("counts");
  const name = readName(b, d + 12, udpEnd);
  if (!name) return pass("name");
  const segLen = 8 + 12 + name.wireLen + 4;
  if (l4 + segLen > udpEnd) return pass("no qtype/qclass");
  // The one additional record allowed is EDNS OPT (root name, type 41); a TSIG or SIG(0)
  // signature would be cut off, and its client would reject the unsigned reply. An OPT's fixed
  // 11 bytes and its RDATA must lie inside the UDP payload.
  const o = l4 + segLen; // where the OPT starts
  const opt = u16(d + 10) === 1;
  if (opt && o + 11 > udpEnd) return pass("OPT cut short");
  if (opt && (b[o] !== 0 || u16(o + 1) !== 41)) return pass("additional record not OPT");
  if (opt && o + 11 + u16(o + 9) > udpEnd) return pass("OPT RDLENGTH past the payload");
  if (!nameSelected(name.labels, cfg.qnames)) return pass("no match");
  const badvers = opt && b[o + 6] !== 0; // EDNS VERSION we do not speak (RFC 6891 §6.1.3)
  const replyLen = segLen + (opt ? 11 : 0);

  // The reply: the same bytes up to the end of the question (and the OPT's 11), then edited.
  const r = Uint8Array.from(b.subarray(0, l4 + replyLen));
  const w16 = (o: number, v: number) => r.set([v >> 8, v & 255], o);
  r.set(b.subarray(6, 12), 0);
  r.set(b.subarray(0, 6), 6);
  if (!v6) {
    r.set(b.subarray(l3 + 16, l3 + 20), l3 + 12);
    r.set(b.subarray(l3 + 12, l3 + 16), l3 + 16);
    r[l3 + 8] = 64;
    w16(l3 + 2, 20 + replyLen);
    w16(l3 + 10, 0);
    w16(l3 + 10, csumFold(csumAdd(0, r.subarray(l3, l3 + 20))));
  } else {
    r.set(b.subarray(l3 + 24, l3 + 40), l3 + 8);
    r.set(b.subarray(l3 + 8, l3 + 24), l3 + 24);
    r[l3 + 7] = 64;
    w16(l3 + 4, replyLen);
  }
  r.set(b.subarray(l4 + 2, l4 + 4), l4);
  r.set(b.subarray(l4, l4 + 2), l4 + 2);
  w16(l4 + 4, replyLen);
  w16(l4 + 6, 0);
  // QR, TC (not with BADVERS: a complete answer), RD kept; RA = RD as dnsdist's TCAction;
  // CD kept; AA, AD, Z, RCODE 0.
  const rd = b[d + 2] & 0x01;
  r[d + 2] = 0x80 | (badvers ? 0 : 0x02) | rd;
  r[d + 3] = (b[d + 3] & 0x10) | (rd << 7);
  w16(d + 6, 0);
  w16(d + 8, 0);
  w16(d + 10, opt ? 1 : 0);
  if (opt) {
    // OPT: root, type 41, UDP size 1232, extended RCODE (BADVERS 16 → 1), version 0, DO copied,
    // no options.
    r.set([0, 0, 41, 1232 >> 8, 1232 & 255, badvers ? 1 : 0, 0, b[o + 7] & 0x80, 0, 0, 0], o);
  }
  const pseudo = v6
    ? csumAdd(csumAdd(0, r.subarray(l3 + 8, l3 + 40)), Uint8Array.of(0, 0, replyLen >> 8, replyLen & 255, 0, 0, 0, 17))
    : csumAdd(csumAdd(0, r.subarray(l3 + 12, l3 + 20)), Uint8Array.of(0, 17, replyLen >> 8, replyLen & 255));
  const c = csumFold(csumAdd(pseudo, r.subarray(l4, l4 + replyLen)));
  w16(l4 + 6, c === 0 ? 0xffff : c);
  return { action: "tx", reply: r };
}
