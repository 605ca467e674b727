// output.ts — the capture's byte sink on a file descriptor (a file or stdout): the reader fills
// 2 MiB chunks, a writer thread (output-worker.ts) writes them, and the reader only waits when all
// CHUNKS are queued (a disk or pipe slower than the capture then slows the reader, and the
// kernel's buffers count the loss). If the thread cannot start, the same chunks are written inline.
//
// Memory and files cost here what they cost on this VM (docs/A-measurements.md): the chunks are one mapping
// touched before the capture, and a capture file is written with direct I/O where its file system
// allows — through the page cache every 4 KiB needs a fresh page, ~20 µs each when the guest has
// not used it lately (200 MiB to a new file: 1.05 s buffered, 0.18 s direct). Direct writes take
// whole 4 KiB blocks from page-aligned memory; the last partial block goes through the page cache.
import { closeSync, fstatSync, writeSync } from "node:fs";
import { anonymous, munmap, prefault, PAGE_SIZE, type Mapping } from "../ffi/mmap.ts";
import { setDirectIo } from "../ffi/fd.ts";
import { errnoName } from "../ffi/errno.ts";
import type { WriterInit } from "./output-worker.ts";

const CHUNK = 1 << 21, CHUNKS = 4;
const EIO = 5;

/**
 * Write all of `b` to `fd`; the errno of a failure (0: none), which is how the writer thread
 * hands it back. A file system that took O_DIRECT at open but refuses these writes (EINVAL)
 * gets them buffered instead: `direct.on` turns off.
 */
export function writeChunk(fd: number, b: Buffer, direct: { on: boolean }): number {
  try {
    for (let off = 0; off < b.length; ) {
      try {
        off += writeSync(fd, b, off, b.length - off);
      } catch (e) {
        if (!direct.on || (e as NodeJS.ErrnoException).code !== "EINVAL") throw e;
        direct.on = false;
        setDirectIo(fd, false);
      }
    }
    return 0;
  } catch (e) {
    return Math.abs((e as NodeJS.ErrnoException).errno ?? 0) || EIO;
  }
}

/** The writer thread, started and answering, or null (then chunks are written inline). */
async function startWriter(init: WriterInit): Promise<Worker | null> {
  // Compiled, the worker is an extra entry point of the binary, at its path below src/.
  const url = import.meta.url.includes("$bunfs") ? new URL("./sampler/output-worker.ts", import.meta.url) : new URL("./output-worker.ts", import.meta.url);
  let w: Worker;
  try {
    w = new Worker(url.href);
  } catch {
    return null;
  }
  const ok = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    w.onmessage = () => { clearTimeout(timer); resolve(true); };
    w.onerror = () => { clearTimeout(timer); resolve(false); };
    w.postMessage(init);
  });
  if (!ok) w.terminate();
  return ok ? w : null;
}

export class Output {
  private mem: Mapping | null = anonymous("capture write buffer", CHUNK * CHUNKS); // page-aligned, as direct I/O needs
  /** The chunk being filled. */
  buf = this.mem!.buf.subarray(0, CHUNK);
  pos = 0;
  private readonly state = new Int32Array(new SharedArrayBuffer(8));
  private sent = 0;
  /** Bytes of the current file handed to the writer (size() adds the chunk being filled). */
  private written = 0;
  private worker: Worker | null = null;
  /** O_DIRECT on the file (the inline writer may turn it off, see writeChunk). */
  private readonly direct = { on: false };
  /** Settles once the writer thread answers (or could not start: chunks are then written inline). */
  readonly ready: Promise<void>;

  constructor(public fd: number, private readonly own: boolean) {
    // Only a file we opened: stdout may be shared with others who do not expect O_DIRECT.
    this.direct.on = own && fstatSync(fd).isFile() && setDirectIo(fd, true);
    prefault(this.buf, true); // the first chunk; the thread faults in the others
    // The thread starts while the caller goes on (loading the program takes longer); nothing is
    // handed over before `ready` — the first chunk fills only once packets arrive.
    this.ready = startWriter({ fd, base: Number(this.mem!.ptr), chunk: CHUNK, chunks: CHUNKS, state: this.state, direct: this.direct.on }).then((w) => {
      if (this.mem) this.worker = w;
      else w?.terminate(); // closed before the thread answered
    });
  }

  /** Room for n more bytes (n ≤ 2 MiB); hands the chunk over first when needed. Returns the write position. */
  reserve(n: number): number {
    if (this.pos + n > CHUNK) this.handOver(this.direct.on ? this.pos & ~(PAGE_SIZE - 1) : this.pos);
    return this.pos;
  }

  /** Address of the write position and the bytes free after it in the current chunk (the native reader writes there). */
  window(): { address: number; room: number } {
    return { address: Number(this.mem!.ptr) + (this.sent % CHUNKS) * CHUNK + this.pos, room: CHUNK - this.pos };
  }

  /** Queue the first n bytes of the chunk; the rest (< 4 KiB) moves to the front of the next one. */
  private handOver(n: number): void {
    this.check();
    if (n === 0) return;
    const slot = this.sent % CHUNKS;
    if (this.worker) this.worker.postMessage({ slot, len: n });
    else this.writeInline(slot, n);
    this.sent++;
    this.written += n;
    this.waitDone(this.sent - CHUNKS + 1); // the next slot is free once the chunk last in it is written
    const next = this.mem!.buf.subarray((this.sent % CHUNKS) * CHUNK, (this.sent % CHUNKS + 1) * CHUNK);
    this.buf.copy(next, 0, n, this.pos);
    this.pos -= n;
    this.buf = next;
  }

  private writeInline(slot: number, n: number): void {
    const errno = Atomics.load(this.state, 1) || writeChunk(this.fd, this.mem!.buf.subarray(slot * CHUNK, slot * CHUNK + n), this.direct);
    Atomics.store(this.state, 1, errno);
    Atomics.add(this.state, 0, 1);
  }

  /** Write out everything; throws the write's error (code EPIPE, ENOSPC…) if one failed. */
  flush(): void {
    if (this.direct.on) this.handOver(this.pos & ~(PAGE_SIZE - 1));
    this.waitDone(this.sent);
    // The tail is not a whole block: written through the page cache, after every direct write.
    if (this.direct.on) this.direct.on = !setDirectIo(this.fd, false);
    if (this.pos) this.handOver(this.pos);
    this.waitDone(this.sent);
    this.check();
  }

  /** Bytes written to the current file so far, counting those not yet handed over. */
  size(): number {
    return this.written + this.pos;
  }

  /** Finish the current file (every byte written, the fd closed) and go on into `fd` (rotation). */
  switchTo(fd: number): void {
    this.flush();
    if (this.own) closeSync(this.fd);
    this.fd = fd;
    this.written = 0;
    this.direct.on = this.own && fstatSync(fd).isFile() && setDirectIo(fd, true);
    this.worker?.postMessage({ fd, direct: this.direct.on }); // after the old file's chunks: handled in order
  }

  close(): void {
    if (!this.mem) return;
    try {
      this.flush();
    } finally {
      this.worker?.terminate();
      if (this.own) closeSync(this.fd);
      munmap(this.mem);
      this.mem = null;
    }
  }

  private waitDone(n: number): void {
    for (let done = Atomics.load(this.state, 0); done < n; done = Atomics.load(this.state, 0)) Atomics.wait(this.state, 0, done, 1000);
  }

  /** The error a write ended with (the writer thread's, seen without waiting for the next chunk), or null. */
  failure(): NodeJS.ErrnoException | null {
    const errno = Atomics.load(this.state, 1);
    if (!errno) return null;
    const code = errnoName(errno);
    return Object.assign(new Error(`${code}: write failed`), { code, errno: -errno });
  }

  private check(): void {
    const e = this.failure();
    if (e) throw e;
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
  /** A frame at src[off, off+caplen) with the XDP verdict it got and the receive queue it came in on. */
  packet(t: Stamp, src: Buffer, off: number, caplen: number, origlen: number, action: number, queue: number): void;
  /** Begin the next file of a rotating capture (its header). */
  restart(): void;
  finish(stats: CaptureStats): void;
}
