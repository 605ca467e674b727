// perf.ts — per-CPU perf event buffers for BPF_MAP_TYPE_PERF_EVENT_ARRAY, read straight from mmap.
//
// One perf event (PERF_COUNT_SW_BPF_OUTPUT) per CPU, opened with perf_event_open(2) through
// syscall(2), its fd stored in the map at the CPU's index, its ring mmapped. The kernel wakes a
// poll()er only once `wakeupBytes` are unread (wakeup_watermark), never per record.
import { errno, libc } from "./native.ts";
import { errnoName } from "./errno.ts";
import { addr, alloc } from "./layout.ts";
import { closeFd } from "./fd.ts";
import { mmapFd, munmap, prefault, PAGE_SIZE, PROT_READ, PROT_WRITE, type Mapping } from "./mmap.ts";
import { OpError } from "../errors.ts";

const SYS_perf_event_open = 298; // x86-64
const PERF_TYPE_SOFTWARE = 1, PERF_COUNT_SW_BPF_OUTPUT = 10, PERF_SAMPLE_RAW = 1 << 10;
const PERF_FLAG_FD_CLOEXEC = 8;
const ATTR_SIZE = 128; // PERF_ATTR_SIZE_VER7
const ATTR_WATERMARK = 1 << 14; // flags bit: wakeup_watermark (bytes) instead of wakeup_events
// struct perf_event_mmap_page
const DATA_HEAD = 1024, DATA_TAIL = 1032, DATA_OFFSET = 1040, DATA_SIZE = 1048;
export const PERF_RECORD_LOST = 2, PERF_RECORD_SAMPLE = 9;

/** Called with the raw sample (the bytes the BPF program passed, plus the ctx bytes). */
export type RawSink = (buf: Buffer, off: number, len: number) => void;

export class PerfBuffer {
  readonly fd: number;
  private map: Mapping | null;
  private data: Buffer;
  private readonly size: number;
  private readonly mask: number;
  private scratch = alloc(65536);
  /** PERF_RECORD_LOST totals (the kernel's own count of records it could not write). */
  lost = 0;

  /** `pages` data pages (a power of two); wake a poller once `wakeupBytes` are unread. */
  constructor(readonly cpu: number, pages: number, wakeupBytes: number) {
    const attr = alloc(ATTR_SIZE);
    attr.writeUInt32LE(PERF_TYPE_SOFTWARE, 0);
    attr.writeUInt32LE(ATTR_SIZE, 4);
    attr.writeBigUInt64LE(BigInt(PERF_COUNT_SW_BPF_OUTPUT), 8);
    attr.writeBigUInt64LE(1n, 16); // sample_period
    attr.writeBigUInt64LE(BigInt(PERF_SAMPLE_RAW), 24);
    attr.writeBigUInt64LE(BigInt(ATTR_WATERMARK), 40);
    attr.writeUInt32LE(Math.max(1, Math.min(wakeupBytes, (pages * PAGE_SIZE) / 2)), 48);
    const fd = Number(libc.symbols.syscall(SYS_perf_event_open, addr(attr), -1, cpu, -1, PERF_FLAG_FD_CLOEXEC));
    if (fd < 0) {
      const e = errno();
      throw Object.assign(new OpError(`perf_event_open on CPU ${cpu}: ${errnoName(e)}`), { errno: e });
    }
    this.fd = fd;
    try {
      this.map = mmapFd(`perf buffer of CPU ${cpu}`, fd, (pages + 1) * PAGE_SIZE, PROT_READ | PROT_WRITE);
    } catch (e) {
      closeFd(fd);
      throw e;
    }
    const off = Number(this.map.buf.readBigUInt64LE(DATA_OFFSET)) || PAGE_SIZE;
    this.size = Number(this.map.buf.readBigUInt64LE(DATA_SIZE)) || pages * PAGE_SIZE;
    this.mask = this.size - 1;
    this.data = this.map.buf.subarray(off, off + this.size);
    prefault(this.data);
  }

  /** Unread bytes right now. */
  pending(): number {
    const m = this.map!.buf;
    return Number(m.readBigUInt64LE(DATA_HEAD) - m.readBigUInt64LE(DATA_TAIL));
  }

  /** Hand every complete sample to `sink`, then free the space; returns the samples read. */
  drain(sink: RawSink): number {
    const m = this.map!.buf;
    const head = Number(m.readBigUInt64LE(DATA_HEAD)); // x86: the load is ordered before the data reads
    let tail = Number(m.readBigUInt64LE(DATA_TAIL));
    const d = this.data;
    let n = 0;
    while (tail < head) {
      const at = tail & this.mask;
      // struct perf_event_header { u32 type; u16 misc; u16 size; } — never split (8-byte aligned)
      const type = d.readUInt32LE(at);
      const size = d.readUInt16LE(at + 6);
      let buf = d, off = at;
      if (at + size > this.size) {
        // The record wraps around the end of the ring: join its two parts.
        if (this.scratch.length < size) this.scratch = alloc(size);
        d.copy(this.scratch, 0, at, this.size);
        d.copy(this.scratch, this.size - at, 0, size - (this.size - at));
        buf = this.scratch;
        off = 0;
      }
      if (type === PERF_RECORD_SAMPLE) {
        sink(buf, off + 12, buf.readUInt32LE(off + 8)); // u32 raw size, then the raw bytes
        n++;
      } else if (type === PERF_RECORD_LOST) {
        this.lost += Number(buf.readBigUInt64LE(off + 16));
      }
      tail += size;
    }
    m.writeBigUInt64LE(BigInt(tail), DATA_TAIL); // give the space back to the kernel
    return n;
  }

  close(): void {
    munmap(this.map);
    this.map = null;
    closeFd(this.fd);
  }
}
