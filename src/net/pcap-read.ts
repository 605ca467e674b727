// pcap-read.ts — the frames of a capture file, pcap (µs or ns, either byte order) or pcapng (any
// number of sections and interfaces; enhanced, simple and the obsolete packet blocks), as Ethernet
// frames with their time stamps. A file that is cut short or not a capture is one UsageError
// naming the byte where it went wrong; a frame from a link that is not Ethernet is refused too,
// since everything that reads these frames (XDP programs) expects Ethernet.
// https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-01.html ·
// https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html
import { readFileSync } from "node:fs";
import { UsageError } from "../errors.ts";

export interface CapturedFrame {
  /** The bytes captured (may be fewer than `origLen` when the capture had a snap length). */
  data: Buffer;
  /** Length of the frame on the wire. */
  origLen: number;
  /** Wall-clock time: seconds and nanoseconds. */
  sec: number;
  nsec: number;
}

const LINKTYPE_ETHERNET = 1;
const PCAP_MAGIC = { 0xa1b2c3d4: 1000, 0xa1b23c4d: 1 } as Record<number, number>; // ns per tick
const SHB = 0x0a0d0d0a, IDB = 1, OLD_PB = 2, SPB = 3, EPB = 6, BYTE_ORDER = 0x1a2b3c4d;

/** Read a capture file (errors name it by its path). */
export function readCaptureFile(path: string): CapturedFrame[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === "ENOENT" ? `no such file: ${path}` : `cannot read ${path}: ${code ?? (e as Error).message}`);
  }
  return readCapture(bytes, path);
}

/** The frames of a capture held in memory. */
export function readCapture(b: Buffer, name = "capture"): CapturedFrame[] {
  if (b.length < 4) throw new UsageError(`${name} is not a pcap or pcapng file (${b.length} bytes)`);
  if (b.readUInt32LE(0) === SHB) return readPcapng(b, name);
  return readPcap(b, name);
}

function readPcap(b: Buffer, name: string): CapturedFrame[] {
  const le = PCAP_MAGIC[b.readUInt32LE(0)] !== undefined;
  const magic = le ? b.readUInt32LE(0) : b.readUInt32BE(0);
  const tick = PCAP_MAGIC[magic];
  if (tick === undefined) throw new UsageError(`${name} is not a pcap or pcapng file (magic 0x${b.readUInt32BE(0).toString(16).padStart(8, "0")})`);
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  if (b.length < 24) throw new UsageError(`${name}: pcap file header cut short (${b.length} of 24 bytes)`);
  const link = u32(20) & 0xffff;
  if (link !== LINKTYPE_ETHERNET) throw new UsageError(`${name}: link type ${link} is not Ethernet (1); XDP programs see Ethernet frames`);
  const frames: CapturedFrame[] = [];
  for (let off = 24; off < b.length; ) {
    if (off + 16 > b.length) throw new UsageError(`${name}: record header of frame ${frames.length + 1} cut short at byte ${off}`);
    const caplen = u32(off + 8);
    if (off + 16 + caplen > b.length) throw new UsageError(`${name}: frame ${frames.length + 1} cut short at byte ${off} (${caplen} bytes announced, ${b.length - off - 16} left)`);
    const sub = u32(off + 4);
    frames.push({ data: b.subarray(off + 16, off + 16 + caplen), origLen: u32(off + 12), sec: u32(off), nsec: sub * tick });
    off += 16 + caplen;
  }
  return frames;
}

interface PcapngIface {
  link: number;
  /** Ticks per second of this interface's time stamps (if_tsresol; default 10^6). */
  perSec: bigint;
}

function readPcapng(b: Buffer, name: string): CapturedFrame[] {
  const frames: CapturedFrame[] = [];
  let le = true;
  let ifaces: PcapngIface[] = [];
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const bad = (off: number, what: string) => new UsageError(`${name}: ${what} at byte ${off}`);
  for (let off = 0; off < b.length; ) {
    if (off + 12 > b.length) throw bad(off, "block cut short");
    if (b.readUInt32LE(off) === SHB) {
      // A new section: its byte-order magic says how to read everything up to the next one.
      if (off + 16 > b.length) throw bad(off, "section header cut short");
      if (b.readUInt32LE(off + 8) === BYTE_ORDER) le = true;
      else if (b.readUInt32BE(off + 8) === BYTE_ORDER) le = false;
      else throw bad(off + 8, "section header without byte-order magic");
      ifaces = [];
    }
    const type = u32(off), len = u32(off + 4);
    if (len < 12 || len % 4 !== 0) throw bad(off + 4, `block length ${len} is invalid`);
    if (off + len > b.length) throw bad(off, `block cut short (${len} bytes announced, ${b.length - off} left)`);
    if (u32(off + len - 4) !== len) throw bad(off + len - 4, "block's trailing length differs from its leading one");
    const body = off + 8, end = off + len - 4;
    if (type === IDB) {
      if (end - body < 8) throw bad(off, "interface description cut short");
      ifaces.push({ link: u16(body), perSec: tsResolution(b, body + 8, end, u16) });
    } else if (type === EPB || type === OLD_PB) {
      if (end - body < 20) throw bad(off, "packet block cut short");
      const ifIdx = type === EPB ? u32(body) : u16(body);
      const iface = ifaces[ifIdx];
      if (!iface) throw bad(off, `packet of interface ${ifIdx}, which the section does not describe`);
      const caplen = u32(body + 12);
      if (body + 20 + caplen > end) throw bad(off, `packet data (${caplen} bytes) longer than its block`);
      frames.push(frame(b.subarray(body + 20, body + 20 + caplen), u32(body + 16), iface, (BigInt(u32(body + 4)) << 32n) | BigInt(u32(body + 8)), off, name));
    } else if (type === SPB) {
      const iface = ifaces[0];
      if (!iface) throw bad(off, "simple packet block before any interface description");
      const origLen = u32(body);
      const caplen = Math.min(origLen, end - body - 4);
      frames.push(frame(b.subarray(body + 4, body + 4 + caplen), origLen, iface, null, off, name));
    }
    off += len;
  }
  return frames;
}

function frame(data: Buffer, origLen: number, iface: PcapngIface, ticks: bigint | null, off: number, name: string): CapturedFrame {
  if (iface.link !== LINKTYPE_ETHERNET) throw new UsageError(`${name}: packet at byte ${off} is from a link of type ${iface.link}, not Ethernet (1); XDP programs see Ethernet frames`);
  if (ticks === null) return { data, origLen, sec: 0, nsec: 0 }; // simple packet blocks carry no time
  const sec = ticks / iface.perSec;
  return { data, origLen, sec: Number(sec), nsec: Number(((ticks - sec * iface.perSec) * 1_000_000_000n) / iface.perSec) };
}

/** if_tsresol (option 9): 10^-n, or 2^-n with the top bit set. */
function tsResolution(b: Buffer, p: number, end: number, u16: (o: number) => number): bigint {
  while (p + 4 <= end) {
    const code = u16(p), len = u16(p + 2);
    if (code === 0) break;
    if (code === 9 && len >= 1 && p + 5 <= end) {
      const r = b[p + 4];
      return r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r);
    }
    p += 4 + ((len + 3) & ~3);
  }
  return 1_000_000n;
}
