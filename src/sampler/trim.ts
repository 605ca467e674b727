// trim.ts — after a write failed (a full disk), cut a capture file back to its last whole record,
// so tcpdump and tshark read every packet in it without a "truncated dump file" error. Walks the
// record headers only (pcap: 16-byte record headers; pcapng: block lengths), reading 1 MiB at a
// time: a few seconds for gigabytes, and only on this error path.
import { closeSync, fstatSync, ftruncateSync, openSync, readSync } from "node:fs";

const PCAP_MAGICS = [0xa1b2c3d4, 0xa1b23c4d]; // microsecond, nanosecond timestamps
const PCAPNG_SHB = 0x0a0d0d0a, PCAPNG_BOM = 0x1a2b3c4d;

/** Truncate `path` after its last complete record; returns the packets/blocks kept (null: not a capture we know). */
export function trimToWholeRecords(path: string): number | null {
  const fd = openSync(path, "r+");
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(1 << 20);
    let start = 0, len = 0;
    const at = (off: number, n: number): Buffer | null => {
      if (off + n > size) return null;
      if (off < start || off + n > start + len) {
        start = off;
        len = readSync(fd, buf, 0, buf.length, off);
        if (len < n) return null;
      }
      return buf.subarray(off - start, off - start + n);
    };
    const head = at(0, 12);
    if (!head) return null;
    let off: number, kept = 0;
    const magic = head.readUInt32LE(0);
    if (PCAP_MAGICS.includes(magic) || PCAP_MAGICS.includes(head.readUInt32BE(0))) {
      const le = PCAP_MAGICS.includes(magic);
      for (off = 24; ; kept++) {
        const h = at(off, 16);
        if (!h) break;
        const next = off + 16 + (le ? h.readUInt32LE(8) : h.readUInt32BE(8));
        if (next > size) break;
        off = next;
      }
      if (off > size) off = 24 > size ? 0 : 24;
    } else if (magic === PCAPNG_SHB) {
      const le = head.readUInt32LE(8) === PCAPNG_BOM;
      for (off = 0; ; kept++) {
        const h = at(off, 8);
        if (!h) break;
        const n = le ? h.readUInt32LE(4) : h.readUInt32BE(4);
        if (n < 12 || off + n > size) break;
        off += n;
      }
    } else {
      return null;
    }
    if (off < size) ftruncateSync(fd, off);
    return kept;
  } finally {
    closeSync(fd);
  }
}
