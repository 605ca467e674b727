// output.ts — a buffered byte sink on a file descriptor (a file or stdout), few large writes.
import { closeSync, writeSync } from "node:fs";

export class Output {
  readonly buf = Buffer.allocUnsafe(1 << 22);
  pos = 0;
  constructor(readonly fd: number, private readonly own: boolean) {}

  /** Room for n more bytes; flushes first when needed. Returns the write position. */
  reserve(n: number): number {
    if (this.pos + n > this.buf.length) this.flush();
    return this.pos;
  }

  flush(): void {
    let off = 0;
    while (off < this.pos) off += writeSync(this.fd, this.buf, off, this.pos - off);
    this.pos = 0;
  }

  close(): void {
    this.flush();
    if (this.own) closeSync(this.fd);
  }
}

/** Wall-clock time of a packet, split so no part exceeds 2^53. */
export interface Stamp {
  sec: number;
  nsec: number;
}

export interface CaptureStats {
  /** Packets the interface saw while the capture ran (the sampler's counter). */
  received: number;
  /** Lost in kernel buffers. */
  dropped: number;
  /** Packets the filter (and the sampling rate) let through: those written, plus any past -c. */
  accepted: number;
}

export interface CaptureWriter {
  packet(t: Stamp, src: Buffer, off: number, caplen: number, origlen: number): void;
  finish(stats: CaptureStats): void;
}
