// format.ts — one tcpdump-like line per packet, for `xdptool sample IFACE` without -w (and -r).
// The frame's own description is net/summary.ts, shared with `xdptool run`.
import { formatMac } from "../net/addr.ts";
import { XDP_ACTIONS } from "../ffi/xdp.ts";
import { walkFrame } from "../net/frame.ts";
import { frameSummary } from "../net/summary.ts";
import type { Stamp } from "./output.ts";

function clock(t: Stamp): string {
  const d = new Date(t.sec * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(Math.floor(t.nsec / 1000), 6)}`;
}

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
  const f = b.subarray(off, off + caplen);
  if (caplen < 14) return `${head} ${frameSummary(f, origlen)}`;
  let line = head;
  if (o.linkHeader) line += ` ${formatMac(f, 6)} > ${formatMac(f, 0)}, ethertype 0x${f.readUInt16BE(12).toString(16).padStart(4, "0")}, length ${origlen}:`;
  line += ` ${frameSummary(f, origlen)}`;
  return o.hex ? `${line}\n${hexLines(f, walkFrame(f).l3)}` : line;
}
