// format.ts — one tcpdump-like line per packet, for `xdptool sample IFACE` without -w.
import { formatIPv4, formatIPv6, formatMac } from "../net/addr.ts";
import { XDP_ACTIONS } from "../ffi/xdp.ts";
import { walkFrame, type FrameWalk } from "../net/frame.ts";
import type { Stamp } from "./output.ts";

function clock(t: Stamp): string {
  const d = new Date(t.sec * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(Math.floor(t.nsec / 1000), 6)}`;
}

function l4(w: FrameWalk, src: string, dst: string, len: number): string {
  if (w.sport !== null) return `${src}.${w.sport} > ${dst}.${w.dport}: ${w.proto === 6 ? "TCP" : "UDP"}, length ${len}`;
  const name = { 1: "ICMP", 58: "ICMP6", 6: "TCP", 17: "UDP" }[w.proto ?? -1] ?? `proto ${w.proto}`;
  return `${src} > ${dst}: ${name}, length ${len}`;
}

const EXT_NAMES: Record<number, string> = { 0: "HBH", 43: "srcrt", 44: "frag", 51: "AH", 60: "DSTOPT", 135: "MOBILITY" };

/** Describe the frame at b[off, off+caplen). */
export function formatPacket(t: Stamp, b: Buffer, off: number, caplen: number, origlen: number, ifname: string, action: number): string {
  const head = `${clock(t)} ${ifname} ${(XDP_ACTIONS as readonly string[])[action] ?? action}`;
  if (caplen < 14) return `${head} truncated frame, length ${origlen}`;
  const f = b.subarray(off, off + caplen), w = walkFrame(f), at = w.l3;
  const vlan = w.vlans.map((v) => ` vlan ${v}`).join("");
  const ports = (src: string, dst: string, len: number) => l4(w, src, dst, len - (w.proto === 17 ? 8 : 0));
  if (w.ip?.family === 4) {
    const len = f.readUInt16BE(at + 2) - (f[at] & 15) * 4;
    const src = formatIPv4(f, at + 12), dst = formatIPv4(f, at + 16);
    return `${head}${vlan} IP ${w.fragment === 2 ? `${src} > ${dst}: fragment, length ${len}` : ports(src, dst, len)}`;
  }
  if (w.ip?.family === 6) {
    const src = formatIPv6(f, at + 8), dst = formatIPv6(f, at + 24);
    const ext = w.ext.map((e) => `${EXT_NAMES[e.type]} `).join("");
    const len = f.readUInt16BE(at + 4) - w.ext.reduce((n, e) => n + e.len, 0);
    return `${head}${vlan} IP6 ${w.fragment === 2 ? `${src} > ${dst}: ${ext}fragment, length ${len}` : `${ext}${ports(src, dst, len)}`}`;
  }
  if (w.etherType === 0x0806) return `${head}${vlan} ARP, length ${origlen - 14}`;
  return `${head}${vlan} ${formatMac(f, 6)} > ${formatMac(f, 0)}, ethertype 0x${w.etherType.toString(16).padStart(4, "0")}, length ${origlen}`;
}
