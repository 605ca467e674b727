// format.ts — one tcpdump-like line per packet, for `xdptool sample IFACE` without -w.
import { XDP_ACTIONS } from "../ffi/xdp.ts";
import { frameSummary } from "../net/summary.ts";
import type { Stamp } from "./output.ts";

function clock(t: Stamp): string {
  const d = new Date(t.sec * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(Math.floor(t.nsec / 1000), 6)}`;
}

/** Describe the frame at b[off, off+caplen). */
export function formatPacket(t: Stamp, b: Buffer, off: number, caplen: number, origlen: number, ifname: string, action: number): string {
  return `${clock(t)} ${ifname} ${(XDP_ACTIONS as readonly string[])[action] ?? action} ${frameSummary(b.subarray(off, off + caplen), origlen)}`;
}
