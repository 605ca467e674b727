// pcap-writer.ts — classic libpcap file format, nanosecond timestamps (magic 0xa1b23c4d).
// https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-01.html
import type { CaptureWriter, Output, Stamp } from "./output.ts";

const MAGIC_NS = 0xa1b23c4d, LINKTYPE_ETHERNET = 1;

export class PcapWriter implements CaptureWriter {
  constructor(private readonly out: Output, private readonly snaplen: number) {
    this.restart();
  }

  /** The file header, at the start of each file. */
  restart(): void {
    const { out, snaplen } = this;
    const at = out.reserve(24);
    const b = out.buf;
    b.writeUInt32LE(MAGIC_NS, at);
    b.writeUInt16LE(2, at + 4); // version 2.4
    b.writeUInt16LE(4, at + 6);
    b.writeUInt32LE(0, at + 8); // reserved (thiszone)
    b.writeUInt32LE(0, at + 12); // reserved (sigfigs)
    b.writeUInt32LE(snaplen, at + 16);
    b.writeUInt32LE(LINKTYPE_ETHERNET, at + 20);
    out.pos = at + 24;
  }

  packet(t: Stamp, src: Buffer, off: number, caplen: number, origlen: number): void {
    const out = this.out;
    const at = out.reserve(16 + caplen);
    const b = out.buf;
    b.writeUInt32LE(t.sec >>> 0, at);
    b.writeUInt32LE(t.nsec, at + 4);
    b.writeUInt32LE(caplen, at + 8);
    b.writeUInt32LE(origlen, at + 12);
    src.copy(b, at + 16, off, off + caplen);
    out.pos = at + 16 + caplen;
  }

  finish(): void {
    this.out.flush();
  }
}
