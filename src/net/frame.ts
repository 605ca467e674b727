// frame.ts — a frame's headers walked once, the way bpf/include/parsing.h walks them: up to two
// VLAN tags; IPv4 (options, fragments, the packet ending at its IP length, not at the frame's
// padding); IPv6 with its whole extension-header chain; ARP. It says where L4 starts and, when
// L4 must exist but cannot be read, that it cannot. `xdptool sample` prints from it, and the
// blacklist's oracle (test/oracles/blacklist.ts) judges from it.

/** IPv6 extension headers: hop-by-hop, routing, fragment, AH, destination options, mobility. */
export const IPV6_EXT = new Set([0, 43, 44, 51, 60, 135]);

export interface ExtHeader {
  type: number;
  off: number;
  len: number;
}

export interface FrameWalk {
  /** VLAN ids, outermost first. */
  vlans: number[];
  /** The EtherType after the tags (0 when a tag is cut short). */
  etherType: number;
  /** Offset of the L3 header. */
  l3: number;
  /** IP: family and addresses; `end` is where the IP packet ends in the frame. */
  ip: { family: 4 | 6; src: Uint8Array; dst: Uint8Array; end: number } | null;
  /** IPv6 extension headers walked, in order. */
  ext: ExtHeader[];
  /** 1: a first fragment; 2: a later one (no L4 header in it). */
  fragment: 0 | 1 | 2;
  /** Upper-layer protocol (after IPv6 extension headers); null without IP. */
  proto: number | null;
  /** False when the chain was cut where the protocol would be: `proto` is an extension header's. */
  protoKnown: boolean;
  /** Offset of the L4 header, when it is in the packet. */
  l4: number | null;
  sport: number | null;
  dport: number | null;
  /** The ports (or the protocol) must exist but cannot be read: the IP header, options, the chain
   *  or the ports are cut short. */
  l4Unknown: boolean;
  /** Ethernet/IPv4 ARP: sender and target protocol addresses. */
  arp: { sender: Uint8Array; target: Uint8Array } | null;
}

/** Walk the headers of frame `f` (its first `length` bytes: a capture may be cut). */
export function walkFrame(f: Uint8Array, length = f.length): FrameWalk {
  const w: FrameWalk = { vlans: [], etherType: 0, l3: 14, ip: null, ext: [], fragment: 0, proto: null, protoKnown: true, l4: null, sport: null, dport: null, l4Unknown: false, arp: null };
  if (length < 14) return w;
  const u16 = (o: number) => (f[o] << 8) | f[o + 1];
  let type = u16(12), off = 14;
  for (let i = 0; i < 2 && (type === 0x8100 || type === 0x88a8); i++) {
    if (off + 4 > length) return w; // a tag cut short: L2 only
    w.vlans.push(u16(off) & 0xfff);
    type = u16(off + 2);
    off += 4;
  }
  w.etherType = type;
  w.l3 = off;
  const cut = () => {
    w.l4Unknown = true;
    return w;
  };
  const ports = (l4: number, proto: number, end: number) => {
    if (proto !== 6 && proto !== 17) return w;
    if (l4 + 4 > end) return cut();
    w.sport = u16(l4);
    w.dport = u16(l4 + 2);
    return w;
  };
  if (type === 0x0800) {
    if (off + 20 > length || f[off] >> 4 !== 4 || (f[off] & 15) < 5) return w;
    const end = Math.min(length, off + u16(off + 2));
    w.ip = { family: 4, src: f.subarray(off + 12, off + 16), dst: f.subarray(off + 16, off + 20), end };
    w.proto = f[off + 9];
    const frag = u16(off + 6);
    if (frag & 0x1fff) {
      w.fragment = 2; // no L4 header in a later fragment
      return w;
    }
    if (frag & 0x2000) w.fragment = 1;
    const l4 = off + (f[off] & 15) * 4;
    if (l4 > end) return cut(); // options past the packet
    w.l4 = l4;
    return ports(l4, w.proto, end);
  }
  if (type === 0x86dd) {
    if (off + 40 > length) return w;
    const plen = u16(off + 4), end = plen ? Math.min(length, off + 40 + plen) : length;
    w.ip = { family: 6, src: f.subarray(off + 8, off + 24), dst: f.subarray(off + 24, off + 40), end };
    if (f[off] >> 4 !== 6) {
      w.proto = 0;
      w.protoKnown = false;
      return cut();
    }
    let nh = f[off + 6], p = off + 40;
    while (IPV6_EXT.has(nh)) {
      if (p + 8 > end) break;
      let len: number;
      if (nh === 44) {
        const fo = u16(p + 2);
        w.fragment = fo & 0xfff8 ? 2 : fo & 1 ? 1 : 0;
        len = 8;
      } else len = nh === 51 ? (f[p + 1] + 2) * 4 : (f[p + 1] + 1) * 8;
      w.ext.push({ type: nh, off: p, len });
      nh = f[p];
      p += len;
      if (w.fragment === 2) break;
    }
    w.proto = nh;
    if (w.fragment === 2) return w; // no L4 header in a later fragment
    if (IPV6_EXT.has(nh) || p > end) {
      // Cut: the type where the protocol would be is an extension header's (protocol unknown),
      // or, when only the last header's length runs past the end, the protocol itself.
      w.protoKnown = !IPV6_EXT.has(nh);
      return cut();
    }
    w.l4 = p;
    return ports(p, nh, end);
  }
  if (type === 0x0806 && off + 28 <= length) {
    // Only Ethernet/IPv4 ARP has 4-byte addresses at these offsets.
    if (u16(off) === 1 && u16(off + 2) === 0x0800 && f[off + 4] === 6 && f[off + 5] === 4) {
      w.arp = { sender: f.subarray(off + 14, off + 18), target: f.subarray(off + 24, off + 28) };
    }
  }
  return w;
}
