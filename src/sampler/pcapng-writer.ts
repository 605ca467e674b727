// pcapng-writer.ts — pcapng: section header, one interface description (name, ifindex, filter,
// nanosecond resolution), an enhanced packet block per packet carrying its XDP verdict, receive
// queue and direction (as xdpdump writes them: Wireshark filters on frame.verdict.ebpf_xdp), and
// at the end an interface statistics block with what was received and what was lost.
// https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html
import type { CaptureStats, CaptureWriter, Output, Stamp } from "./output.ts";

const SHB = 0x0a0d0d0a, IDB = 1, EPB = 6, ISB = 5, BYTE_ORDER = 0x1a2b3c4d;
const pad4 = (n: number) => (n + 3) & ~3;
/** Options of an enhanced packet block: epb_flags (4 bytes), epb_queue (4) and epb_verdict (9,
 *  padded to 12) where known (a capture read back with -r may not say), opt_endofopt. */
const EPB_FLAGS = 2, EPB_QUEUE = 6, EPB_VERDICT = 7;
/** epb_flags bits 0-1: 01 = inbound (XDP sees received frames only). */
const INBOUND = 1;
/** epb_verdict's first octet: the verdict's type; 2 = Linux eBPF XDP, then the 8-byte verdict. */
const VERDICT_XDP = 2;

type Opt = [code: number, value: Buffer];
const u64 = (v: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return b; };

export class PcapngWriter implements CaptureWriter {
  private readonly t0: bigint;
  private sec = -1;
  private baseHi = 0;
  private baseLo = 0;

  /** `app` is the shb_userappl Wireshark shows as the file's writer. */
  constructor(private readonly out: Output, private readonly snaplen: number, private readonly iface: { name: string; ifindex?: number }, private readonly now: () => bigint, private readonly expr?: string, private readonly app = "xdptool sample") {
    this.restart();
    this.t0 = now();
  }

  /** The section header and interface description, at the start of each file. */
  restart(): void {
    const { snaplen, iface, expr, app } = this;
    this.block(SHB, (() => {
      const b = Buffer.alloc(16);
      b.writeUInt32LE(BYTE_ORDER, 0);
      b.writeUInt16LE(1, 4); // version 1.0
      b.writeUInt16LE(0, 6);
      b.writeBigInt64LE(-1n, 8); // section length unknown
      return b;
    })(), [[4, Buffer.from(app)]]); // shb_userappl
    const idb = Buffer.alloc(8);
    idb.writeUInt16LE(1, 0); // LINKTYPE_ETHERNET
    idb.writeUInt32LE(snaplen, 4);
    // if_name, if_description (no standard option holds an ifindex), if_tsresol = 10^-9, and
    // if_filter (first octet 0: a libpcap filter string) when there is one.
    const opts: Opt[] = [[2, Buffer.from(iface.name)], [9, Buffer.from([9])]];
    if (iface.ifindex !== undefined) opts.push([3, Buffer.from(`ifindex ${iface.ifindex}`)]);
    if (expr) opts.push([11, Buffer.concat([Buffer.from([0]), Buffer.from(expr)])]);
    this.block(IDB, idb, opts);
  }

  private block(type: number, body: Buffer, opts: Opt[] = []): void {
    let optLen = 0;
    for (const [, v] of opts) optLen += 4 + pad4(v.length);
    if (opts.length) optLen += 4; // opt_endofopt
    const total = 12 + body.length + optLen;
    const at = this.out.reserve(total);
    const b = this.out.buf;
    b.writeUInt32LE(type, at);
    b.writeUInt32LE(total, at + 4);
    body.copy(b, at + 8);
    let p = at + 8 + body.length;
    for (const [code, v] of opts) {
      b.writeUInt16LE(code, p);
      b.writeUInt16LE(v.length, p + 2);
      b.fill(0, p + 4, p + 4 + pad4(v.length));
      v.copy(b, p + 4);
      p += 4 + pad4(v.length);
    }
    if (opts.length) { b.writeUInt32LE(0, p); p += 4; }
    b.writeUInt32LE(total, p);
    this.out.pos = p + 4;
  }

  /** action and queue are -1 where unknown (then their options are left out). */
  packet(t: Stamp, src: Buffer, off: number, caplen: number, origlen: number, action: number, queue: number): void {
    const padded = pad4(caplen);
    const total = 32 + padded + 8 + (queue >= 0 ? 8 : 0) + (action >= 0 ? 16 : 0) + 4;
    const out = this.out;
    const at = out.reserve(total);
    const b = out.buf;
    // Timestamp: a 64-bit count of ns (if_tsresol 9), high word first. Beyond 2^53, so split
    // exactly once per second with BigInt; within the second plain numbers do.
    if (t.sec !== this.sec) {
      const base = BigInt(t.sec) * 1_000_000_000n;
      this.sec = t.sec;
      this.baseHi = Number(base >> 32n);
      this.baseLo = Number(base & 0xffffffffn);
    }
    let hi = this.baseHi, lo = this.baseLo + t.nsec;
    if (lo >= 2 ** 32) { hi++; lo -= 2 ** 32; }
    b.writeUInt32LE(EPB, at);
    b.writeUInt32LE(total, at + 4);
    b.writeUInt32LE(0, at + 8); // interface 0
    b.writeUInt32LE(hi, at + 12);
    b.writeUInt32LE(lo, at + 16);
    b.writeUInt32LE(caplen, at + 20);
    b.writeUInt32LE(origlen, at + 24);
    src.copy(b, at + 28, off, off + caplen);
    b.fill(0, at + 28 + caplen, at + 28 + padded);
    let p = at + 28 + padded;
    b.writeUInt32LE(EPB_FLAGS | (4 << 16), p); // code, then length, both 16-bit little-endian
    b.writeUInt32LE(INBOUND, p + 4);
    p += 8;
    if (queue >= 0) {
      b.writeUInt32LE(EPB_QUEUE | (4 << 16), p);
      b.writeUInt32LE(queue, p + 4);
      p += 8;
    }
    if (action >= 0) {
      b.writeUInt32LE(EPB_VERDICT | (9 << 16), p);
      b.writeUInt32LE(VERDICT_XDP | (action << 8), p + 4); // type octet, then the u64 verdict's low bytes
      b.writeUInt32LE(0, p + 8);
      b.writeUInt32LE(0, p + 12); // the verdict's top byte, then padding
      p += 16;
    }
    b.writeUInt32LE(0, p); // opt_endofopt
    b.writeUInt32LE(total, p + 4);
    out.pos = at + total;
  }

  /** A packet with a comment (opt_comment) and, for a frame an XDP program judged, its verdict
   *  (epb_verdict, type 2 = Linux eBPF XDP, value the XDP action): Wireshark shows both. Not on
   *  the capture's hot path (`packet` is). */
  annotated(t: Stamp, data: Buffer, origlen: number, note: { comment?: string; xdpVerdict?: number }): void {
    const body = Buffer.alloc(20 + pad4(data.length));
    const ns = BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec);
    body.writeUInt32LE(0, 0); // interface 0
    body.writeUInt32LE(Number(ns >> 32n), 4);
    body.writeUInt32LE(Number(ns & 0xffffffffn), 8);
    body.writeUInt32LE(data.length, 12);
    body.writeUInt32LE(origlen, 16);
    data.copy(body, 20);
    const opts: Opt[] = [];
    if (note.comment) opts.push([1, Buffer.from(note.comment)]);
    if (note.xdpVerdict !== undefined) opts.push([7, Buffer.concat([Buffer.from([2]), u64(BigInt(note.xdpVerdict))])]);
    this.block(EPB, body, opts);
  }

  finish(s: CaptureStats): void {
    const end = this.now();
    const body = Buffer.alloc(12);
    body.writeUInt32LE(0, 0); // interface 0
    body.writeUInt32LE(Number(end >> 32n), 4);
    body.writeUInt32LE(Number(end & 0xffffffffn), 8);
    this.block(ISB, body, [
      [2, u64(this.t0)], [3, u64(end)], // isb_starttime, isb_endtime
      [4, u64(BigInt(s.received))], [5, u64(BigInt(s.dropped))], // isb_ifrecv, isb_ifdrop
      [6, u64(BigInt(s.accepted))], // isb_filteraccept
    ]);
    this.out.flush();
  }
}
