// mmap.ts — shared memory with the kernel (perf and BPF ring buffers), read as plain Buffers.
//
// The Buffer returned is a view straight onto the mapping: reads are ordinary loads, no copy and
// no FFI call per record. Never use Atomics on a read-only mapping (it faults): plain reads only.
import { toArrayBuffer, type Pointer } from "bun:ffi";
import { errno, libc } from "./native.ts";
import { errnoName } from "./errno.ts";
import { OpError } from "../errors.ts";

export const PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
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

export function munmap(m: Mapping | null | undefined): void {
  if (m) libc.symbols.munmap(m.ptr, m.len);
}
