// summary.ts — one tcpdump-like line describing a frame: `xdptool sample` prints it after the
// time and verdict, `xdptool run` after the frame number.
import { formatIPv4, formatIPv6, formatMac } from "./addr.ts";
import { walkFrame, type FrameWalk } from "./frame.ts";

function l4(w: FrameWalk, src: string, dst: string, len: number): string {
  if (w.sport !== null) return `${src}.${w.sport} > ${dst}.${w.dport}: ${w.proto === 6 ? "TCP" : "UDP"}, length ${len}`;
  const name = { 1: "ICMP", 58: "ICMP6", 6: "TCP", 17: "UDP" }[w.proto ?? -1] ?? `proto ${w.proto}`;
  return `${src} > ${dst}: ${name}, length ${len}`;
}

const EXT_NAMES: Record<number, string> = { 0: "HBH", 43: "srcrt", 44: "frag", 51: "AH", 60: "DSTOPT", 135: "MOBILITY" };

/** Describe frame `f` (the bytes captured) of `origlen` bytes on the wire. */
export function frameSummary(f: Uint8Array, origlen = f.length): string {
  if (f.length < 14) return `truncated frame, length ${origlen}`;
  const b = Buffer.from(f.buffer, f.byteOffset, f.length), w = walkFrame(b), at = w.l3;
  const vlan = w.vlans.map((v) => `vlan ${v} `).join("");
  const ports = (src: string, dst: string, len: number) => l4(w, src, dst, len - (w.proto === 17 ? 8 : 0));
  if (w.ip?.family === 4) {
    const len = b.readUInt16BE(at + 2) - (b[at] & 15) * 4;
    const src = formatIPv4(b, at + 12), dst = formatIPv4(b, at + 16);
    return `${vlan}IP ${w.fragment === 2 ? `${src} > ${dst}: fragment, length ${len}` : ports(src, dst, len)}`;
  }
  if (w.ip?.family === 6) {
    const src = formatIPv6(b, at + 8), dst = formatIPv6(b, at + 24);
    const ext = w.ext.map((e) => `${EXT_NAMES[e.type]} `).join("");
    const len = b.readUInt16BE(at + 4) - w.ext.reduce((n, e) => n + e.len, 0);
    return `${vlan}IP6 ${w.fragment === 2 ? `${src} > ${dst}: ${ext}fragment, length ${len}` : `${ext}${ports(src, dst, len)}`}`;
  }
  if (w.etherType === 0x0806) return `${vlan}ARP, length ${origlen - 14}`;
  return `${vlan}${formatMac(b, 6)} > ${formatMac(b, 0)}, ethertype 0x${w.etherType.toString(16).padStart(4, "0")}, length ${origlen}`;
}
