// ringbuf.ts — a BPF_MAP_TYPE_RINGBUF read straight from mmap (no libbpf callback per record).
//
// Layout (kernel/bpf/ringbuf.c): page 0 = consumer position (we write it), page 1 = producer
// position (read-only), then the data area mapped twice in a row, so a record that wraps around
// the end is still contiguous in memory. Each record: u32 len (BUSY/DISCARD flags in the top
// bits), u32 page offset, then len bytes, padded to 8.
import { mmapFd, munmap, prefault, PAGE_SIZE, PROT_READ, PROT_WRITE, type Mapping } from "./mmap.ts";
import type { RawSink } from "./perf.ts";
import { bpf } from "./native.ts";

const BUSY = 0x80000000, DISCARD = 0x40000000, HDR = 8;

export class RingBuffer {
  private cons: Mapping | null;
  private prod: Mapping | null;
  private data: Buffer;
  private readonly mask: number;

  constructor(readonly fd: number, readonly size: number) {
    this.cons = mmapFd("ring buffer consumer page", fd, PAGE_SIZE, PROT_READ | PROT_WRITE);
    try {
      this.prod = mmapFd("ring buffer data", fd, PAGE_SIZE + 2 * size, PROT_READ, PAGE_SIZE);
    } catch (e) {
      munmap(this.cons);
      throw e;
    }
    this.data = this.prod.buf.subarray(PAGE_SIZE);
    this.mask = size - 1;
    // The first copy, and the start of the second that records wrapping around the end reach.
    prefault(this.data.subarray(0, size + PAGE_SIZE));
  }

  /** Consume everything committed so far without reading it (the records of a warm-up). */
  skipAll(): void {
    this.cons!.buf.writeBigUInt64LE(this.prod!.buf.readBigUInt64LE(0), 0);
  }

  /** Bytes the producer has ever committed (a ring written through once has produced ≥ size). */
  produced(): number {
    return Number(this.prod!.buf.readBigUInt64LE(0));
  }

  pending(): number {
    return Number(this.prod!.buf.readBigUInt64LE(0) - this.cons!.buf.readBigUInt64LE(0));
  }

  /** Records into pcap or pcapng form at address `out` (libbpf/sampdrain.c: no JavaScript per
   *  record); `d` is its struct xt_drain, limits in and results out (src/sampler/bulk.ts lays it out). */
  drainInto(out: number, d: BigUint64Array): void {
    bpf().xt_samp_drain(this.cons!.ptr, this.prod!.ptr, Number(this.prod!.ptr) + PAGE_SIZE, out, d);
  }

  /** At most `max` records to `sink`; how many went there. */
  drain(sink: RawSink, max = Infinity): number {
    const prod = Number(this.prod!.buf.readBigUInt64LE(0));
    let cons = Number(this.cons!.buf.readBigUInt64LE(0));
    const d = this.data;
    let n = 0;
    while (cons < prod && n < max) {
      const at = cons & this.mask;
      const len = d.readUInt32LE(at);
      if (len & BUSY) break; // reserved, not yet committed: stop here, later records wait for it
      const bytes = len & ~(BUSY | DISCARD);
      if (!(len & DISCARD)) {
        sink(d, at + HDR, bytes);
        n++;
      }
      cons += (bytes + HDR + 7) & ~7;
    }
    this.cons!.buf.writeBigUInt64LE(BigInt(cons), 0);
    return n;
  }

  close(): void {
    munmap(this.prod);
    munmap(this.cons);
    this.prod = this.cons = null;
  }
}
