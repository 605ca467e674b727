// mmap.ts — shared memory with the kernel (perf and BPF ring buffers), read as plain Buffers.
//
// The Buffer returned is a view straight onto the mapping: reads are ordinary loads, no copy and
// no FFI call per record. Never use Atomics on a read-only mapping (it faults): plain reads only.
import { toArrayBuffer, type Pointer } from "bun:ffi";
import { errno, libc } from "./native.ts";
import { errnoName } from "./errno.ts";
import { OpError } from "../errors.ts";

export const PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;
export const PAGE_SIZE = 4096;

export interface Mapping {
  ptr: Pointer;
  len: number;
  buf: Buffer;
}

export function mmapFd(what: string, fd: number, len: number, prot: number, offset = 0): Mapping {
  const p = libc.symbols.mmap(null, len, prot, MAP_SHARED, fd, offset);
  // MAP_FAILED is (void *)-1; bun:ffi hands pointers back as numbers.
  if (!p || Number(p) === -1 || Number(p) >= 2 ** 64 - 4096) throw new OpError(`mmap ${what}: ${errnoName(errno())}`);
  return { ptr: p, len, buf: Buffer.from(toArrayBuffer(p, 0, len)) };
}

/**
 * Touch every page of a fresh mapping once (a read per 4 KiB). The first access of a process to a
 * page takes a fault; on this VM each costs 6-20 µs (a 16 MiB ring: 4096 pages, 25-40 ms). Paid
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
  if (!p || Number(p) === -1 || Number(p) >= 2 ** 64 - 4096) throw new OpError(`mmap ${what}: ${errnoName(errno())}`);
  return { ptr: p, len, buf: Buffer.from(toArrayBuffer(p, 0, len)) };
}

export function munmap(m: Mapping | null | undefined): void {
  if (m) libc.symbols.munmap(m.ptr, m.len);
}
