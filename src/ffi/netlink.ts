// netlink.ts — rtnetlink, read-only: the host's local routes (the addresses it accepts as its own),
// an interface's MAC and addresses, every interface with its XDP programs, from a dump; and a
// socket that wakes up when routes change.
import { errno, libc } from "./native.ts";
import { alloc } from "./layout.ts";
import { errnoName } from "./errno.ts";
import { OpError } from "../errors.ts";

const AF_NETLINK = 16, SOCK_RAW = 3, SOCK_CLOEXEC = 0o2000000, NETLINK_ROUTE = 0;
const NLM_F_REQUEST = 1, NLM_F_DUMP = 0x300, NLMSG_ERROR = 2, NLMSG_DONE = 3, MSG_DONTWAIT = 0x40;
const RTM_GETLINK = 18, RTM_GETADDR = 22, RTM_GETROUTE = 26, RTN_LOCAL = 2, RTA_DST = 1, IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3, IFLA_XDP = 43, IFLA_XDP_ATTACHED = 2, IFLA_XDP_PROG_ID = 4, IFLA_XDP_DRV_PROG_ID = 5, IFLA_XDP_SKB_PROG_ID = 6, IFLA_XDP_HW_PROG_ID = 7;
const IFA_ADDRESS = 1, IFA_LOCAL = 2, RT_SCOPE_UNIVERSE = 0;
/** RTNLGRP_IPV4_ROUTE (7) and RTNLGRP_IPV6_ROUTE (11), as the bind() group mask. */
const ROUTE_GROUPS = (1 << 6) | (1 << 10);

export interface LocalPrefix {
  family: 4 | 6;
  addr: Uint8Array;
  len: number;
}

/** An interface and its XDP programs as the kernel reports them (bpf_xdp_query's fields). */
export interface XdpLink {
  name: string;
  ifindex: number;
  /** IFLA_XDP_ATTACHED: 0 none, 1 native, 2 skb, 3 hw, 4 several */
  attachMode: number;
  progId: number;
  drvProgId: number;
  skbProgId: number;
  hwProgId: number;
}

/** One receive buffer for every dump of the process: a fresh 64 KiB is 16 pages to fault in and
 *  zero, and `status` dumps once per namespace. Dumps never nest (each is read to its end). */
let received: { bytes: Uint8Array; view: DataView } | undefined;
function receiveBuffer(): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(new ArrayBuffer(65536));
  return { bytes, view: new DataView(bytes.buffer) };
}

export class Netlink {
  private constructor(readonly fd: number) {}

  /** A socket in the current network namespace; `watch` also joins the route-change groups. */
  static open(watch = false): Netlink {
    const fd = libc.symbols.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) throw new OpError(`netlink socket: ${errnoName(errno())}`);
    const sa = new Uint8Array(12), v = new DataView(sa.buffer); // struct sockaddr_nl { u16 family, u16 pad, u32 pid, u32 groups }
    v.setUint16(0, AF_NETLINK, true);
    v.setUint32(8, watch ? ROUTE_GROUPS : 0, true);
    if (libc.symbols.bind(fd, sa, 12) !== 0) {
      const e = errno();
      libc.symbols.close(fd);
      throw new OpError(`netlink bind: ${errnoName(e)}`);
    }
    return new Netlink(fd);
  }

  close(): void {
    libc.symbols.close(this.fd);
  }

  /** Discard what is queued (change notifications); true when there was something. */
  drain(): boolean {
    const buf = alloc(65536);
    let any = false;
    while (Number(libc.symbols.recv(this.fd, buf, buf.length, MSG_DONTWAIT)) > 0) any = true;
    return any;
  }

  /** Send one dump request; `each` sees every reply message's payload (a view into the receive
   *  buffer, valid during the call). DataView, not Buffer's methods: those are JavaScript compiled
   *  at their first call, and `status` starts with this dump. */
  private request(type: number, body: Uint8Array, each: (type: number, data: DataView) => void): void {
    const req = new Uint8Array(16 + body.length), r = new DataView(req.buffer);
    r.setUint32(0, req.length, true);
    r.setUint16(4, type, true);
    r.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, true);
    r.setUint32(8, 1, true); // sequence
    req.set(body, 16);
    if (Number(libc.symbols.send(this.fd, req, req.length, 0)) !== req.length) throw new OpError(`netlink send: ${errnoName(errno())}`);
    const { bytes: buf, view: v } = (received ??= receiveBuffer());
    for (;;) {
      const n = Number(libc.symbols.recv(this.fd, buf, buf.length, 0));
      if (n < 0) throw new OpError(`netlink recv: ${errnoName(errno())}`);
      for (let off = 0; off + 16 <= n; ) {
        const len = v.getUint32(off, true), t = v.getUint16(off + 4, true), seq = v.getUint32(off + 8, true);
        if (len < 16 || off + len > n) break;
        // Notifications (sequence 0) can be interleaved with the dump on a watching socket.
        if (seq === 1) {
          if (t === NLMSG_DONE) return;
          if (t === NLMSG_ERROR) throw new OpError(`netlink dump: ${errnoName(-v.getInt32(off + 16, true))}`);
          each(t, new DataView(buf.buffer, off + 16, len - 16));
        }
        off += (len + 3) & ~3;
      }
    }
  }

  /** Send one dump request and collect every reply message (type, payload). */
  private dump(type: number, body: Buffer): { type: number; data: Buffer }[] {
    const out: { type: number; data: Buffer }[] = [];
    this.request(type, body, (t, d) => out.push({ type: t, data: Buffer.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)) }));
    return out;
  }

  /** The kernel's RTN_LOCAL routes in every table, both families: what it delivers locally. */
  localPrefixes(): LocalPrefix[] {
    const out: LocalPrefix[] = [];
    for (const family of [2, 10] as const) {
      const rtm = Buffer.alloc(12); // struct rtmsg
      rtm.writeUInt8(family, 0);
      for (const m of this.dump(RTM_GETROUTE, rtm)) {
        if (m.data.length < 12 || m.data[7] !== RTN_LOCAL) continue; // rtm_type
        const dstLen = m.data[1];
        const size = family === 2 ? 4 : 16;
        for (const [type, v] of attrs(m.data, 12)) {
          if (type === RTA_DST && v.length === size) out.push({ family: family === 2 ? 4 : 6, addr: Uint8Array.from(v), len: dstLen });
        }
      }
    }
    return out;
  }

  /** The link-layer address of an interface in this namespace. */
  mac(ifindex: number): Uint8Array {
    const ifi = Buffer.alloc(16); // struct ifinfomsg; a dump filtered afterwards (simplest request)
    for (const m of this.dump(RTM_GETLINK, ifi)) {
      if (m.data.length < 16 || m.data.readInt32LE(4) !== ifindex) continue;
      for (const [type, v] of attrs(m.data, 16)) if (type === IFLA_ADDRESS && v.length === 6) return Uint8Array.from(v);
    }
    throw new OpError(`no Ethernet address for interface index ${ifindex}`);
  }

  /** Every interface of this namespace with its XDP programs, by ifindex: one dump for what
   *  libbpf's bpf_xdp_query asks one interface at a time (each a dump of them all). */
  xdpLinks(): XdpLink[] {
    const out: XdpLink[] = [];
    this.request(RTM_GETLINK, new Uint8Array(16), (_, d) => {
      if (d.byteLength < 16) return;
      const link: XdpLink = { name: "", ifindex: d.getInt32(4, true), attachMode: 0, progId: 0, drvProgId: 0, skbProgId: 0, hwProgId: 0 };
      eachAttr(d, 16, d.byteLength, (type, off, len) => {
        if (type === IFLA_IFNAME) link.name = cString(d, off, len);
        if (type !== IFLA_XDP) return;
        eachAttr(d, off, off + len, (t, o, n) => {
          if (t === IFLA_XDP_ATTACHED && n >= 1) link.attachMode = d.getUint8(o);
          const id = n >= 4 ? d.getUint32(o, true) : 0;
          if (t === IFLA_XDP_PROG_ID) link.progId = id;
          if (t === IFLA_XDP_DRV_PROG_ID) link.drvProgId = id;
          if (t === IFLA_XDP_SKB_PROG_ID) link.skbProgId = id;
          if (t === IFLA_XDP_HW_PROG_ID) link.hwProgId = id;
        });
      });
      out.push(link);
    });
    return out.sort((x, y) => x.ifindex - y.ifindex);
  }

  /** The interface's first global-scope address of each family, as `ip addr` lists them. */
  globalAddresses(ifindex: number): { ipv4?: Uint8Array; ipv6?: Uint8Array } {
    const out: { ipv4?: Uint8Array; ipv6?: Uint8Array } = {};
    for (const m of this.dump(RTM_GETADDR, Buffer.alloc(8))) { // struct ifaddrmsg: family, prefixlen, flags, scope, index
      if (m.data.length < 8 || m.data.readUInt32LE(4) !== ifindex || m.data[3] !== RT_SCOPE_UNIVERSE) continue;
      const key = m.data[0] === 2 ? "ipv4" : m.data[0] === 10 ? "ipv6" : null;
      if (!key || out[key]) continue;
      // IFA_LOCAL is the interface's own address; IFA_ADDRESS the peer's on point-to-point links.
      let addr: Buffer | undefined;
      for (const [type, v] of attrs(m.data, 8)) if (type === IFA_LOCAL || (type === IFA_ADDRESS && !addr)) addr = v;
      if (addr && addr.length === (key === "ipv4" ? 4 : 16)) out[key] = Uint8Array.from(addr);
    }
    return out;
  }
}

/** Each route attribute in d[off, end): its type, and where its value starts and how long it is. */
function eachAttr(d: DataView, off: number, end: number, fn: (type: number, off: number, len: number) => void): void {
  while (off + 4 <= end) {
    const len = d.getUint16(off, true), type = d.getUint16(off + 2, true) & 0x3fff;
    if (len < 4 || off + len > end) return;
    fn(type, off + 4, len - 4);
    off += (len + 3) & ~3;
  }
}

/** A NUL-terminated string of at most `len` bytes at `off`. */
function cString(d: DataView, off: number, len: number): string {
  let n = 0;
  while (n < len && d.getUint8(off + n) !== 0) n++;
  return new TextDecoder().decode(new Uint8Array(d.buffer, d.byteOffset + off, n));
}

/** Route attributes (struct rtattr: u16 len, u16 type, value, 4-byte aligned) from `off`. */
function* attrs(b: Buffer, off: number): Generator<[number, Buffer]> {
  while (off + 4 <= b.length) {
    const len = b.readUInt16LE(off), type = b.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4 || off + len > b.length) return;
    yield [type, b.subarray(off + 4, off + len)];
    off += (len + 3) & ~3;
  }
}
