// capture-read.ts — the packets of a capture file: pcap (µs or ns time stamps, either byte order)
// or pcapng (any number of sections and interfaces, if_tsresol, enhanced, simple and the obsolete
// packet blocks, the epb_verdict and epb_queue options we and xdpdump write), as tcpdump and
// Wireshark write them. One reader for `xdptool sample -r` (streaming: the file is read in 1 MiB
// steps, so a capture larger than memory reads too) and `xdptool run` (every frame, in memory).
// A file that is no capture, cut short or of another link type than Ethernet is one UsageError.
// https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-01.html
// https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html
import { closeSync, openSync, readSync } from "node:fs";
import { UsageError } from "../errors.ts";

const LINKTYPE_ETHERNET = 1;
const SHB = 0x0a0d0d0a, IDB = 1, OLD_PB = 2, SPB = 3, EPB = 6, BYTE_ORDER = 0x1a2b3c4d;
const PCAP_MAGIC = { 0xa1b2c3d4: 1000, 0xa1b23c4d: 1 } as Record<number, number>; // ns per tick

/** One packet read; `buf` is the reader's own buffer (valid until the next packet). `action` and
 *  `queue` are -1 where the file does not say. */
export interface ReadPacket {
  t: { sec: number; nsec: number };
  buf: Buffer;
  off: number;
  caplen: number;
  origlen: number;
  ifname: string;
  action: number;
  queue: number;
}

/** A frame of its own (a copy), for whoever keeps them all (`xdptool run`). */
export interface CapturedFrame {
  /** The bytes captured (may be fewer than `origLen` when the capture had a snap length). */
  data: Buffer;
  /** Length of the frame on the wire. */
  origLen: number;
  /** Wall-clock time: seconds and nanoseconds. */
  sec: number;
  nsec: number;
}

/** The input read forward; `need(n)` makes n bytes from `pos` available (false at the end).
 *  `at` is the file offset of `pos`, for errors. */
class Cursor {
  pos = 0;
  end: number;
  base = 0;
  private eof: boolean;
  constructor(
    public buf: Buffer,
    private readonly fd: number | null,
  ) {
    this.end = fd === null ? buf.length : 0;
    this.eof = fd === null;
  }
  get at(): number {
    return this.base + this.pos;
  }
  need(n: number): boolean {
    if (this.end - this.pos >= n || this.fd === null) return this.end - this.pos >= n;
    if (this.pos > 0) {
      this.buf.copy(this.buf, 0, this.pos, this.end);
      this.end -= this.pos;
      this.base += this.pos;
      this.pos = 0;
    }
    if (n > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(n, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.end);
      this.buf = bigger;
    }
    while (!this.eof && this.end < n) {
      const got = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
      if (got === 0) this.eof = true;
      this.end += got;
    }
    return this.end >= n;
  }
}

const notCapture = (name: string, why: string) => new UsageError(`${name} is not a pcap or pcapng capture (${why})`);
const notEthernet = (name: string, link: number) => new UsageError(`${name}: link type ${link}, not Ethernet (1): xdptool reads Ethernet captures only`);
const cantRead = (name: string, e: unknown) => {
  const code = (e as NodeJS.ErrnoException).code;
  return new UsageError(`cannot read ${name}: ${code === "ENOENT" ? "no such file" : (code ?? (e as Error).message)}`);
};

/** The end of the input in the middle of a record (`what`), which starts at `c.at`. */
function cutShort(c: Cursor, name: string, what: string, detail: string): UsageError {
  return new UsageError(`${name}: the capture ends in the middle of ${what} at byte ${c.at} (${detail})`);
}

/** Open `path` ("-": standard input) and check its first bytes before anything is printed. */
export function openCapture(path: string): { fd: number; packets: () => Generator<ReadPacket> } {
  let fd: number;
  try {
    fd = path === "-" ? 0 : openSync(path, "r");
  } catch (e) {
    throw cantRead(path, e);
  }
  try {
    return { fd, packets: start(new Cursor(Buffer.alloc(1 << 20), fd), path) };
  } catch (e) {
    if (fd !== 0) closeSync(fd);
    throw e instanceof UsageError ? e : cantRead(path, e);
  }
}

/** Every frame of a capture file, copied out (errors name the file by its path). */
export function readCaptureFile(path: string): CapturedFrame[] {
  const { fd, packets } = openCapture(path);
  try {
    return collect(packets());
  } catch (e) {
    throw e instanceof UsageError ? e : cantRead(path, e);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

/** Every frame of a capture held in memory. */
export function readCapture(b: Buffer, name = "capture"): CapturedFrame[] {
  return collect(start(new Cursor(b, null), name)());
}

function collect(packets: Generator<ReadPacket>): CapturedFrame[] {
  const out: CapturedFrame[] = [];
  for (const p of packets) out.push({ data: Buffer.from(p.buf.subarray(p.off, p.off + p.caplen)), origLen: p.origlen, sec: p.t.sec, nsec: p.t.nsec });
  return out;
}

/** The format, from the first four bytes. */
function start(c: Cursor, name: string): () => Generator<ReadPacket> {
  if (!c.need(4)) throw notCapture(name, "shorter than any file header");
  const le = c.buf.readUInt32LE(0), be = c.buf.readUInt32BE(0);
  let gen: Generator<ReadPacket>;
  if (PCAP_MAGIC[le] || PCAP_MAGIC[be]) gen = readPcap(c, name, !!PCAP_MAGIC[le]);
  else if (le === SHB) gen = readPcapng(c, name);
  else throw notCapture(name, `it starts with 0x${be.toString(16).padStart(8, "0")}`);
  return () => gen;
}

function* readPcap(c: Cursor, name: string, le: boolean): Generator<ReadPacket> {
  if (!c.need(24)) throw notCapture(name, "its file header is cut short");
  const u32 = (o: number) => (le ? c.buf.readUInt32LE(c.pos + o) : c.buf.readUInt32BE(c.pos + o));
  const tick = PCAP_MAGIC[u32(0)];
  const link = u32(20) & 0xffff;
  if (link !== LINKTYPE_ETHERNET) throw notEthernet(name, link);
  c.pos += 24;
  for (let n = 1; ; n++) {
    if (!c.need(16)) {
      if (c.end > c.pos) throw cutShort(c, name, `packet ${n}`, `a record header is 16 bytes, ${c.end - c.pos} left`);
      return;
    }
    const sec = u32(0), frac = u32(4), caplen = u32(8), origlen = u32(12);
    if (caplen > 1 << 24) throw notCapture(name, `packet ${n} claims ${caplen} bytes`);
    if (!c.need(16 + caplen)) throw cutShort(c, name, `packet ${n}`, `${caplen} bytes announced, ${c.end - c.pos - 16} left`);
    yield { t: { sec, nsec: frac * tick }, buf: c.buf, off: c.pos + 16, caplen, origlen, ifname: "-", action: -1, queue: -1 };
    c.pos += 16 + caplen;
  }
}

interface Iface {
  name: string;
  link: number;
  /** Ticks per second of its time stamps. */
  perSec: bigint;
}

/** if_tsresol: 10^-n (top bit clear) or 2^-n (top bit set). */
const ticks = (v: number): bigint => (v & 0x80 ? 1n << BigInt(v & 0x7f) : 10n ** BigInt(v));

function* readPcapng(c: Cursor, name: string): Generator<ReadPacket> {
  let le = true;
  let ifaces: Iface[] = [];
  for (let n = 1; ; ) {
    if (!c.need(12)) {
      if (c.end > c.pos) throw cutShort(c, name, "the block", `a block header is 12 bytes, ${c.end - c.pos} left`);
      return;
    }
    const u32 = (o: number) => (le ? c.buf.readUInt32LE(c.pos + o) : c.buf.readUInt32BE(c.pos + o));
    const u16 = (o: number) => (le ? c.buf.readUInt16LE(c.pos + o) : c.buf.readUInt16BE(c.pos + o));
    if (c.buf.readUInt32LE(c.pos) === SHB) {
      // A new section: its own byte order and interfaces.
      const bom = c.buf.readUInt32LE(c.pos + 8);
      if (bom !== BYTE_ORDER && c.buf.readUInt32BE(c.pos + 8) !== BYTE_ORDER) throw notCapture(name, `no byte-order magic in the section header at byte ${c.at}`);
      le = bom === BYTE_ORDER;
      ifaces = [];
    }
    const len = u32(4);
    if (len < 12 || len % 4 || len > 1 << 26) throw notCapture(name, `the block at byte ${c.at} claims ${len} bytes`);
    if (!c.need(len)) throw cutShort(c, name, "the block", `${len} bytes announced, ${c.end - c.pos} left`);
    if (u32(len - 4) !== len) throw notCapture(name, `the block at byte ${c.at} ends with another length than it starts with`);
    /** The options from block offset `from` on: [code, value offset, length]. */
    const options = function* (from: number): Generator<[number, number, number]> {
      for (let o = from; o + 4 <= len - 4; ) {
        const code = u16(o), size = u16(o + 2);
        if (code === 0 || o + 4 + size > len - 4) return;
        yield [code, c.pos + o + 4, size];
        o += 4 + ((size + 3) & ~3);
      }
    };
    const type = u32(0);
    if (type === IDB) {
      if (len < 20) throw notCapture(name, `the interface description at byte ${c.at} is cut short`);
      const f: Iface = { name: `if${ifaces.length}`, link: u16(8), perSec: 1_000_000n };
      for (const [code, at, size] of options(16)) {
        if (code === 2) f.name = c.buf.toString("utf8", at, at + size).replace(/\0+$/, "");
        if (code === 9 && size >= 1) f.perSec = ticks(c.buf[at]);
      }
      ifaces.push(f);
    } else if (type === EPB || type === OLD_PB || type === SPB) {
      const stamped = type !== SPB; // enhanced and obsolete blocks: the same fields, then the data
      if (stamped && len < 32) throw notCapture(name, `the packet block at byte ${c.at} is cut short`);
      const id = type === EPB ? u32(8) : type === OLD_PB ? u16(8) : 0;
      const f = ifaces[id];
      if (!f) throw notCapture(name, `packet ${n} names interface ${id}, which its section does not describe`);
      if (f.link !== LINKTYPE_ETHERNET) throw notEthernet(name, f.link);
      const origlen = stamped ? u32(24) : u32(8);
      const caplen = stamped ? u32(20) : Math.min(origlen, len - 16);
      const data = stamped ? 28 : 12;
      if (data + caplen > len - 4) throw notCapture(name, `packet ${n} is longer than its block`);
      let t = { sec: 0, nsec: 0 }; // simple packet blocks carry no time
      if (stamped) {
        const ts = (BigInt(u32(12)) << 32n) | BigInt(u32(16));
        t = { sec: Number(ts / f.perSec), nsec: Number(((ts % f.perSec) * 1_000_000_000n) / f.perSec) };
      }
      let action = -1, queue = -1;
      if (type === EPB) {
        for (const [code, at, size] of options(data + ((caplen + 3) & ~3))) {
          if (code === 6 && size === 4) queue = le ? c.buf.readUInt32LE(at) : c.buf.readUInt32BE(at);
          // epb_verdict of type 2 (eBPF XDP): the verdict as a u64 in the section's byte order.
          if (code === 7 && size === 9 && c.buf[at] === 2) action = Number(le ? c.buf.readBigUInt64LE(at + 1) : c.buf.readBigUInt64BE(at + 1));
        }
      }
      yield { t, buf: c.buf, off: c.pos + data, caplen, origlen, ifname: f.name, action, queue };
      n++;
    }
    c.pos += len;
  }
}
