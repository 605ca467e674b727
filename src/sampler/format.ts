// format.ts — one tcpdump-like line per packet, for `xdptool sample IFACE` without -w.
import { formatIPv4, formatIPv6, formatMac } from "../net/addr.ts";
import { XDP_ACTIONS } from "../ffi/xdp.ts";
import type { Stamp } from "./output.ts";

function clock(t: Stamp): string {
  const d = new Date(t.sec * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(Math.floor(t.nsec / 1000), 6)}`;
}

function l4(b: Buffer, at: number, end: number, proto: number, src: string, dst: string, len: number): string {
  if ((proto === 6 || proto === 17) && at + 4 <= end) {
    const sp = b.readUInt16BE(at), dp = b.readUInt16BE(at + 2);
    const name = proto === 6 ? "TCP" : "UDP";
    return `${src}.${sp} > ${dst}.${dp}: ${name}, length ${len}`;
  }
  const name = { 1: "ICMP", 58: "ICMP6", 6: "TCP", 17: "UDP" }[proto] ?? `proto ${proto}`;
  return `${src} > ${dst}: ${name}, length ${len}`;
}

/** Describe the frame at b[off, off+caplen). */
export function formatPacket(t: Stamp, b: Buffer, off: number, caplen: number, origlen: number, ifname: string, action: number): string {
  const end = off + caplen;
  const head = `${clock(t)} ${ifname} ${(XDP_ACTIONS as readonly string[])[action] ?? action}`;
  if (caplen < 14) return `${head} truncated frame, length ${origlen}`;
  let type = b.readUInt16BE(off + 12), at = off + 14;
  let vlan = "";
  while ((type === 0x8100 || type === 0x88a8) && at + 4 <= end) {
    vlan += ` vlan ${b.readUInt16BE(at) & 0xfff}`;
    type = b.readUInt16BE(at + 2);
    at += 4;
  }
  if (type === 0x0800 && at + 20 <= end) {
    const ihl = (b[at] & 15) * 4;
    const len = b.readUInt16BE(at + 2) - ihl;
    const frag = b.readUInt16BE(at + 6) & 0x1fff;
    const src = formatIPv4(b, at + 12), dst = formatIPv4(b, at + 16);
    return `${head}${vlan} IP ${frag ? `${src} > ${dst}: fragment, length ${len}` : l4(b, at + ihl, end, b[at + 9], src, dst, len - (b[at + 9] === 17 ? 8 : 0))}`;
  }
  if (type === 0x86dd && at + 40 <= end) {
    const src = formatIPv6(b, at + 8), dst = formatIPv6(b, at + 24);
    let len = b.readUInt16BE(at + 4), next = b[at + 6], l4at = at + 40, ext = "";
    // Walk extension headers (hop-by-hop, routing, destination options; fragment) as tcpdump does.
    while ((next === 0 || next === 43 || next === 60 || next === 44) && l4at + 8 <= end) {
      const hlen = next === 44 ? 8 : (b[l4at + 1] + 1) * 8;
      ext += { 0: "HBH ", 43: "srcrt ", 60: "DSTOPT ", 44: "frag " }[next];
      if (next === 44 && (b.readUInt16BE(l4at + 2) & 0xfff8) !== 0) return `${head}${vlan} IP6 ${src} > ${dst}: ${ext}fragment, length ${len}`;
      next = b[l4at];
      l4at += hlen;
      len -= hlen;
    }
    return `${head}${vlan} IP6 ${ext}${l4(b, l4at, end, next, src, dst, len - (next === 17 ? 8 : 0))}`;
  }
  if (type === 0x0806) return `${head}${vlan} ARP, length ${origlen - 14}`;
  return `${head}${vlan} ${formatMac(b, off + 6)} > ${formatMac(b, off)}, ethertype 0x${type.toString(16).padStart(4, "0")}, length ${origlen}`;
}
