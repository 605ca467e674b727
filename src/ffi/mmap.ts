// mmap.ts — shared memory with the kernel (perf and BPF ring buffers), read as plain Buffers.
//
// The Buffer returned is a view straight onto the mapping: reads are ordinary loads, no copy and
// no FFI call per record. Never use Atomics on a read-only mapping (it faults): plain reads only.
import { toArrayBuffer, type Pointer } from "bun:ffi";
import { errno, libc } from "./native.ts";
import { errnoName } from "./errno.ts";
import { OpError } from "../errors.ts";

export const PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
export const PAGE_SIZE = 4096;

export interface Mapping {
  ptr: Pointer;
  len: number;
  buf: Buffer;
  /** Mapped (and to be unmapped) this many bytes at a time (mmapInPieces). */
  piece?: number;
}

/** MAP_FAILED is (void *)-1; bun:ffi hands pointers back as numbers. */
const failed = (p: Pointer | null) => !p || Number(p) === -1 || Number(p) >= 2 ** 64 - 4096;

export function mmapFd(what: string, fd: number, len: number, prot: number, offset = 0): Mapping {
  const p = libc.symbols.mmap(null, len, prot, MAP_SHARED, fd, offset);
  if (failed(p)) throw new OpError(`mmap ${what}: ${errnoName(errno())}`);
  return { ptr: p, len, buf: Buffer.from(toArrayBuffer(p, 0, len)) };
}

/**
 * Touch every page of a fresh mapping once (a read per 4 KiB). The first access of a process to a
 * page takes a fault, dear on a VM (docs/A-measurements.md: tens of ms for a 16 MiB ring). Paid
 * here, before a capture starts, instead of by the reader on its first pass while the kernel keeps
 * writing — the difference between keeping up and losing the first tens of thousands of records.
 */
export function prefault(buf: Buffer, forWriting = false): void {
  if (forWriting) {
    // Fresh private memory: a read would only map the shared zero page, and the first write fault anyway.
    for (let i = 0; i < buf.length; i += PAGE_SIZE) buf[i] = 0;
    return;
  }
  let sum = 0;
  for (let i = 0; i < buf.length; i += PAGE_SIZE) sum += buf[i];
  if (sum < 0) throw new Error("unreachable"); // keeps the reads from being optimized away
}

/** A Buffer over memory this process already owns at `address` (e.g. a Mapping's, from another thread). */
export function viewAt(address: number, len: number): Buffer {
  return Buffer.from(toArrayBuffer(address as Pointer, 0, len));
}

/** Page-aligned private memory (zero-filled; its pages fault in on first touch, see prefault). */
export function anonymous(what: string, len: number): Mapping {
  const p = libc.symbols.mmap(null, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (failed(p)) throw new OpError(`mmap ${what}: ${errnoName(errno())}`);
  return { ptr: p, len, buf: Buffer.from(toArrayBuffer(p, 0, len)) };
}

export function munmap(m: Mapping | null | undefined): void {
  if (!m) return;
  const step = m.piece ?? m.len;
  for (let off = 0; off < m.len; off += step) libc.symbols.munmap((Number(m.ptr) + off) as Pointer, Math.min(step, m.len - off));
}


/**
 * mmapFd for a big BPF array, one piece at a time into one reserved range (the same contiguous
 * Buffer). The kernel inserts every page of a BPF array mapping inside the mmap call without
 * letting anything else run, and unmapping is the same: on a kernel built without preemption a
 * big table in one call holds a CPU for milliseconds (docs/A-measurements.md "Management", measured by
 * bench/manage.bench.ts). In pieces each call is short, and the scheduler gets the CPU between.
 */
export function mmapInPieces(what: string, fd: number, len: number, prot: number, piece = 8 << 20): Mapping {
  if (len <= piece) return mmapFd(what, fd, len, prot);
  const base = libc.symbols.mmap(null, len, 0, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (failed(base)) throw new OpError(`mmap ${what}: ${errnoName(errno())}`);
  for (let off = 0; off < len; off += piece) {
    const p = libc.symbols.mmap((Number(base) + off) as Pointer, Math.min(piece, len - off), prot, MAP_SHARED | MAP_FIXED, fd, off);
    if (failed(p)) {
      const e = errno();
      munmap({ ptr: base!, len, buf: Buffer.alloc(0), piece });
      throw new OpError(`mmap ${what}: ${errnoName(e)}`);
    }
  }
  return { ptr: base!, len, buf: Buffer.from(toArrayBuffer(base!, 0, len)), piece };
}

/**
 * Read elements [first, end) of a mmapable BPF array a window at a time: each window is mapped
 * read-only, handed to `visit` as words (word 0 = the first word of element `from`) with the
 * elements it holds, and unmapped before the next. The kernel maps every page of a BPF array
 * mapping up front, so a whole table is resident the moment it is mapped, read or not; this keeps
 * a scan at one window however big the map. `elemSize` (value size rounded up to 8) must divide a page.
 */
export function eachWindow(what: string, fd: number, elemSize: number, first: number, end: number, visit: (words: Uint32Array, from: number, count: number) => void, windowBytes = 8 << 20): void {
  if (PAGE_SIZE % elemSize) throw new Error(`eachWindow: ${elemSize}-byte elements straddle pages`);
  const perPage = PAGE_SIZE / elemSize, perWindow = Math.max(1, Math.floor(windowBytes / PAGE_SIZE)) * perPage;
  for (let from = first - (first % perPage); from < end; from += perWindow) {
    const count = Math.min(perWindow, end - from);
    const m = mmapFd(what, fd, Math.ceil((count * elemSize) / PAGE_SIZE) * PAGE_SIZE, PROT_READ, (from / perPage) * PAGE_SIZE);
    try {
      const skip = from < first ? first - from : 0;
      visit(new Uint32Array(m.buf.buffer, m.buf.byteOffset + skip * elemSize, ((count - skip) * elemSize) >>> 2), from + skip, count - skip);
    } finally {
      munmap(m);
    }
  }
}
