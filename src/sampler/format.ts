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

/** tcpdump's -e and -x: the link-level header on the line, the packet's bytes in hex after it. */
export interface LineOptions {
  linkHeader?: boolean;
  hex?: boolean;
}

/** tcpdump -x: from the network header on, 16 bytes a line in groups of two ("\t0x0010:  4500 0054 …"). */
function hexLines(f: Buffer, from: number): string {
  const lines: string[] = [];
  for (let at = from; at < f.length; at += 16) {
    const row = f.subarray(at, Math.min(at + 16, f.length)).toString("hex").match(/.{1,4}/g)!.join(" ");
    lines.push(`\t0x${(at - from).toString(16).padStart(4, "0")}:  ${row}`);
  }
  return lines.join("\n");
}

/** Describe the frame at b[off, off+caplen); action -1 (a file that does not say) prints as "-". */
export function formatPacket(t: Stamp, b: Buffer, off: number, caplen: number, origlen: number, ifname: string, action: number, o: LineOptions = {}): string {
  const verdict = action < 0 ? "-" : ((XDP_ACTIONS as readonly string[])[action] ?? String(action));
  const head = `${clock(t)} ${ifname} ${verdict}`;
  if (caplen < 14) return `${head} truncated frame, length ${origlen}`;
  const f = b.subarray(off, off + caplen), w = walkFrame(f);
  let line = head;
  if (o.linkHeader) line += ` ${formatMac(f, 6)} > ${formatMac(f, 0)}, ethertype 0x${f.readUInt16BE(12).toString(16).padStart(4, "0")}, length ${origlen}:`;
  line += describe(f, w, origlen);
  return o.hex ? `${line}\n${hexLines(f, w.l3)}` : line;
}

/** The line after its head: " IP a.1 > b.2: UDP, length 18" and the like. */
function describe(f: Buffer, w: FrameWalk, origlen: number): string {
  const at = w.l3;
  const vlan = w.vlans.map((v) => ` vlan ${v}`).join("");
  const ports = (src: string, dst: string, len: number) => l4(w, src, dst, len - (w.proto === 17 ? 8 : 0));
  if (w.ip?.family === 4) {
    const len = f.readUInt16BE(at + 2) - (f[at] & 15) * 4;
    const src = formatIPv4(f, at + 12), dst = formatIPv4(f, at + 16);
    return `${vlan} IP ${w.fragment === 2 ? `${src} > ${dst}: fragment, length ${len}` : ports(src, dst, len)}`;
  }
  if (w.ip?.family === 6) {
    const src = formatIPv6(f, at + 8), dst = formatIPv6(f, at + 24);
    const ext = w.ext.map((e) => `${EXT_NAMES[e.type]} `).join("");
    const len = f.readUInt16BE(at + 4) - w.ext.reduce((n, e) => n + e.len, 0);
    return `${vlan} IP6 ${w.fragment === 2 ? `${src} > ${dst}: ${ext}fragment, length ${len}` : `${ext}${ports(src, dst, len)}`}`;
  }
  if (w.etherType === 0x0806) return `${vlan} ARP, length ${origlen - 14}`;
  return `${vlan} ${formatMac(f, 6)} > ${formatMac(f, 0)}, ethertype 0x${w.etherType.toString(16).padStart(4, "0")}, length ${origlen}`;
}
