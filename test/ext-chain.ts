// ext-chain.ts — IPv6 frames with a chain of extension headers before TCP or UDP, built byte by
// byte (test/parse.test.ts and the parse cost measurement share them).
import { csumAdd, csumFold } from "../src/net/packet.ts";
import { parseIPv6 } from "../src/net/addr.ts";

export interface ChainSpec {
  /** Extension headers, in order: 60 Destination Options, 0 Hop-by-Hop, 43 Routing, 44 Fragment, 51 AH. */
  exts: number[];
  l4?: "tcp" | "udp";
  sport?: number;
  dport?: number;
  src?: string;
  dst?: string;
  dstMac?: string;
  /** Fragment header offset (8-byte units) and M flag, for a 44 in `exts`. */
  fragOffset?: number;
  more?: boolean;
  /** Cut the frame to this many bytes (the IPv6 payload length still claims the whole packet). */
  cutTo?: number;
  /** IPv6 payload length to claim instead of the real one. */
  payloadLen?: number;
}

function ext(type: number, next: number, s: ChainSpec): number[] {
  if (type === 44) { // fragment: next, reserved, offset<<3 | M, identification
    const fo = ((s.fragOffset ?? 0) << 3) | (s.more ? 1 : 0);
    return [next, 0, fo >> 8, fo & 255, 0, 0, 0x12, 0x34];
  }
  if (type === 51) return [next, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]; // AH: (1 + 2) * 4 = 12 bytes
  if (type === 43) return [next, 0, 0, 0, 0, 0, 0, 0]; // routing type 0... segments left 0: skipped
  return [next, 0, 1, 4, 0, 0, 0, 0]; // options header with one PadN: 8 bytes
}

export function chainFrame(s: ChainSpec): Uint8Array {
  const src = parseIPv6(s.src ?? "2001:db8::1")!, dst = parseIPv6(s.dst ?? "2001:db8::2")!;
  const l4 = s.l4 ?? "tcp", proto = l4 === "tcp" ? 6 : 17;
  const sport = s.sport ?? 40000, dport = s.dport ?? 22;
  const hdr = l4 === "tcp"
    ? [sport >> 8, sport & 255, dport >> 8, dport & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]
    : [sport >> 8, sport & 255, dport >> 8, dport & 255, 0, 8, 0, 0];
  const seg = Uint8Array.from(hdr);
  const pseudo = csumAdd(csumAdd(csumAdd(0, src), dst), Uint8Array.of(0, 0, 0, seg.length, 0, 0, 0, proto));
  const c = csumFold(csumAdd(pseudo, seg));
  seg.set([c >> 8, c & 255], l4 === "tcp" ? 16 : 6);
  const chain: number[] = [];
  s.exts.forEach((t, i) => chain.push(...ext(t, i + 1 < s.exts.length ? s.exts[i + 1] : proto, s)));
  const plen = s.payloadLen ?? chain.length + seg.length;
  const mac = (m: string) => m.split(":").map((x) => parseInt(x, 16));
  const f = Uint8Array.from([
    ...mac(s.dstMac ?? "02:78:74:00:00:02"), ...mac("02:78:74:00:00:01"), 0x86, 0xdd,
    0x60, 0, 0, 0, plen >> 8, plen & 255, s.exts.length ? s.exts[0] : proto, 64, ...src, ...dst, ...chain, ...seg,
  ]);
  return s.cutTo !== undefined ? f.subarray(0, s.cutTo) : f;
}
