// output.ts — a buffered byte sink on a file descriptor (a file or stdout), written by a thread of
// its own (output-worker.ts): the reader fills one chunk of shared memory while the writer thread
// writes the previous ones, and only waits once CHUNKS are queued (a writer that cannot keep up
// at all then slows the reader, and the kernel's buffers count the loss). Without a worker
// (it failed to start) the same chunks are written synchronously.
import { closeSync, writeSync } from "node:fs";

const CHUNK = 1 << 20, CHUNKS = 8;
const ERRNO_NAME: Record<number, string> = { 32: "EPIPE", 28: "ENOSPC", 5: "EIO", 9: "EBADF", 27: "EFBIG", 122: "EDQUOT" };

/** The writer thread, started and answering, or null (then writes are synchronous). */
async function startWriter(init: object): Promise<Worker | null> {
  // Compiled, the worker is an extra entry point of the binary, at its path below src/.
  const url = import.meta.url.includes("$bunfs") ? new URL("./sample/output-worker.ts", import.meta.url) : new URL("./output-worker.ts", import.meta.url);
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
  buf: Buffer;
  pos = 0;
  private readonly mem = new SharedArrayBuffer(CHUNK * CHUNKS);
  private readonly state = new Int32Array(new SharedArrayBuffer(8)); // [0] chunks done, [1] errno
  private sent = 0;
  private worker: Worker | null = null;

  private constructor(readonly fd: number, private readonly own: boolean) {
    this.buf = Buffer.from(this.mem, 0, CHUNK);
  }

  static async open(fd: number, own: boolean): Promise<Output> {
    const o = new Output(fd, own);
    o.worker = await startWriter({ fd, mem: o.mem, state: o.state, chunk: CHUNK });
    return o;
  }

  /** Room for n more bytes (n ≤ 1 MiB); hands the chunk over first when needed. Returns the write position. */
  reserve(n: number): number {
    if (this.pos + n > this.buf.length) this.flush();
    return this.pos;
  }

  /** Hand the current chunk to the writer; throws the writer's error (code EPIPE, ENOSPC…) if it failed. */
  flush(): void {
    this.check();
    if (this.pos === 0) return;
    if (!this.worker) {
      for (let off = 0; off < this.pos; ) off += writeSync(this.fd, this.buf, off, this.pos - off);
    } else {
      this.worker.postMessage({ slot: this.sent % CHUNKS, len: this.pos });
      this.sent++;
      this.waitDone(this.sent - CHUNKS + 1); // the next slot is free once its last chunk is written
      this.buf = Buffer.from(this.mem, (this.sent % CHUNKS) * CHUNK, CHUNK);
    }
    this.pos = 0;
  }

  close(): void {
    try {
      this.flush();
      this.waitDone(this.sent);
      this.check();
    } finally {
      this.worker?.terminate();
      if (this.own) closeSync(this.fd);
    }
  }

  private waitDone(n: number): void {
    for (let done = Atomics.load(this.state, 0); done < n; done = Atomics.load(this.state, 0)) Atomics.wait(this.state, 0, done, 1000);
  }

  private check(): void {
    const errno = Atomics.load(this.state, 1);
    if (!errno) return;
    const code = ERRNO_NAME[errno] ?? "EIO";
    throw Object.assign(new Error(`${code}: write failed`), { code, errno: -errno });
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
