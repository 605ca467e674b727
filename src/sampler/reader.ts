// reader.ts — `xdptool sample -r FILE`: read a capture back, pcap (either timestamp resolution,
// either byte order) or pcapng (any number of sections and interfaces, if_tsresol, the
// epb_verdict and epb_queue options we and xdpdump write), as tcpdump and Wireshark write them.
// The file is read in 1 MiB steps, so a capture larger than memory reads too.
// https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-01.html
// https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html
import { closeSync, openSync, readSync } from "node:fs";
import { UsageError } from "../errors.ts";
import type { Stamp } from "./output.ts";

const LINKTYPE_ETHERNET = 1;
const SHB = 0x0a0d0d0a, IDB = 1, SPB = 3, EPB = 6, BYTE_ORDER = 0x1a2b3c4d;
const PCAP_MAGIC = { 0xa1b2c3d4: 1000, 0xa1b23c4d: 1 } as Record<number, number>; // ns per tick

/** One frame read back; `action`/`queue` are -1 where the file does not say. */
export interface ReadPacket {
  t: Stamp;
  buf: Buffer;
  off: number;
  caplen: number;
  origlen: number;
  ifname: string;
  action: number;
  queue: number;
}

/** A file read forward in steps; `need(n)` makes n bytes from `pos` available (false at the end). */
class Cursor {
  buf = Buffer.alloc(1 << 20);
  pos = 0;
  end = 0;
  private eof = false;
  constructor(private readonly fd: number) {}
  need(n: number): boolean {
    if (this.end - this.pos >= n) return true;
    if (this.pos > 0) {
      this.buf.copy(this.buf, 0, this.pos, this.end);
      this.end -= this.pos;
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

const notCapture = (path: string, why: string) => new UsageError(`${path} is not a pcap or pcapng capture (${why})`);
const cutShort = (path: string) => new UsageError(`${path}: the capture ends in the middle of a packet (cut short?)`);

/** Open `path` and check its first bytes before anything is printed: a UsageError if it is no capture. */
export function openCapture(path: string): { fd: number; packets: () => Generator<ReadPacket> } {
  let fd: number;
  try {
    fd = path === "-" ? 0 : openSync(path, "r");
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const c = new Cursor(fd);
  try {
    if (!c.need(4)) throw notCapture(path, "shorter than any file header");
  } catch (e) {
    if (fd !== 0) closeSync(fd);
    throw e instanceof UsageError ? e : new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const le = c.buf.readUInt32LE(0), be = c.buf.readUInt32BE(0);
  let gen: Generator<ReadPacket>;
  if (PCAP_MAGIC[le] || PCAP_MAGIC[be]) gen = readPcap(c, path, !!PCAP_MAGIC[le]);
  else if (le === SHB) gen = readPcapng(c, path);
  else {
    if (fd !== 0) closeSync(fd);
    throw notCapture(path, `it starts with 0x${be.toString(16).padStart(8, "0")}`);
  }
  return { fd, packets: () => gen };
}

function* readPcap(c: Cursor, path: string, le: boolean): Generator<ReadPacket> {
  if (!c.need(24)) throw notCapture(path, "its file header is cut short");
  const u32 = (o: number) => (le ? c.buf.readUInt32LE(c.pos + o) : c.buf.readUInt32BE(c.pos + o));
  const tick = PCAP_MAGIC[u32(0)];
  const link = u32(20) & 0xffff;
  if (link !== LINKTYPE_ETHERNET) throw new UsageError(`${path}: link type ${link}, not Ethernet (1): xdptool reads Ethernet captures only`);
  c.pos += 24;
  for (;;) {
    if (!c.need(16)) {
      if (c.end > c.pos) throw cutShort(path);
      return;
    }
    const sec = u32(0), frac = u32(4), caplen = u32(8), origlen = u32(12);
    if (caplen > 1 << 24) throw notCapture(path, `a record claims ${caplen} bytes`);
    if (!c.need(16 + caplen)) throw cutShort(path);
    yield { t: { sec, nsec: frac * tick }, buf: c.buf, off: c.pos + 16, caplen, origlen, ifname: "-", action: -1, queue: -1 };
    c.pos += 16 + caplen;
  }
}

interface Iface {
  name: string;
  link: number;
  /** Ticks per second, and the divisor to nanoseconds. */
  perSec: bigint;
}

/** if_tsresol: 10^-n (top bit clear) or 2^-n (top bit set). */
const ticks = (v: number): bigint => (v & 0x80 ? 1n << BigInt(v & 0x7f) : 10n ** BigInt(v));

function* readPcapng(c: Cursor, path: string): Generator<ReadPacket> {
  let le = true;
  let ifaces: Iface[] = [];
  for (;;) {
    if (!c.need(12)) {
      if (c.end > c.pos) throw cutShort(path);
      return;
    }
    const u32 = (o: number) => (le ? c.buf.readUInt32LE(c.pos + o) : c.buf.readUInt32BE(c.pos + o));
    const u16 = (o: number) => (le ? c.buf.readUInt16LE(c.pos + o) : c.buf.readUInt16BE(c.pos + o));
    const type = c.buf.readUInt32LE(c.pos);
    if (type === SHB) {
      // A new section: its own byte order and interfaces.
      const bom = c.buf.readUInt32LE(c.pos + 8);
      if (bom !== BYTE_ORDER && c.buf.readUInt32BE(c.pos + 8) !== BYTE_ORDER) throw notCapture(path, "bad section byte-order magic");
      le = bom === BYTE_ORDER;
      ifaces = [];
    }
    const len = u32(4);
    if (len < 12 || len % 4 || len > 1 << 26) throw notCapture(path, `a block claims ${len} bytes`);
    if (!c.need(len)) throw cutShort(path);
    /** The options from block offset `from` on: [code, value offset, length]. */
    const options = function* (from: number): Generator<[number, number, number]> {
      for (let o = from; o + 4 <= len - 4; ) {
        const code = u16(o), n = u16(o + 2);
        if (code === 0 || o + 4 + n > len - 4) return;
        yield [code, c.pos + o + 4, n];
        o += 4 + ((n + 3) & ~3);
      }
    };
    const btype = u32(0);
    if (btype === IDB) {
      const f: Iface = { name: `if${ifaces.length}`, link: u16(8), perSec: 1_000_000n };
      for (const [code, at, n] of options(16)) {
        if (code === 2) f.name = c.buf.toString("utf8", at, at + n).replace(/\0+$/, "");
        if (code === 9 && n >= 1) f.perSec = ticks(c.buf[at]);
      }
      ifaces.push(f);
    } else if (btype === EPB || btype === SPB) {
      const epb = btype === EPB;
      const id = epb ? u32(8) : 0;
      const f = ifaces[id];
      if (!f) throw notCapture(path, `a packet names interface ${id}, which was not described`);
      if (f.link !== LINKTYPE_ETHERNET) throw new UsageError(`${path}: link type ${f.link}, not Ethernet (1): xdptool reads Ethernet captures only`);
      const origlen = epb ? u32(24) : u32(8);
      const caplen = epb ? u32(20) : Math.min(origlen, len - 16);
      const data = epb ? 28 : 12;
      if (data + caplen > len - 4) throw notCapture(path, "a packet is longer than its block");
      let t: Stamp = { sec: 0, nsec: 0 };
      if (epb) {
        const ts = (BigInt(u32(12)) << 32n) | BigInt(u32(16));
        t = { sec: Number(ts / f.perSec), nsec: Number(((ts % f.perSec) * 1_000_000_000n) / f.perSec) };
      }
      let action = -1, queue = -1;
      if (epb) {
        for (const [code, at, n] of options(data + ((caplen + 3) & ~3))) {
          if (code === 6 && n === 4) queue = le ? c.buf.readUInt32LE(at) : c.buf.readUInt32BE(at);
          // epb_verdict of type 2 (eBPF XDP): the verdict as a u64 in the section's byte order.
          if (code === 7 && n === 9 && c.buf[at] === 2) action = Number(le ? c.buf.readBigUInt64LE(at + 1) : c.buf.readBigUInt64BE(at + 1));
        }
      }
      yield { t, buf: c.buf, off: c.pos + data, caplen, origlen, ifname: f.name, action, queue };
    }
    c.pos += len;
  }
}
