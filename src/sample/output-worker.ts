// output-worker.ts — the capture file's writer thread. The reader (output.ts) fills 1 MiB chunks
// of shared memory and posts "chunk k is ready, n bytes"; this thread writes them in order and
// counts them done, so a slow disk or pipe never stalls the reader draining the kernel's buffers.
import { writeSync } from "node:fs";

let fd = -1;
let mem: SharedArrayBuffer;
let state: Int32Array; // [0] chunks done, [1] errno of the first failed write (0: none)
let chunk = 0;

const ERRNO: Record<string, number> = { EPIPE: 32, ENOSPC: 28, EIO: 5, EBADF: 9, EFBIG: 27, EDQUOT: 122 };

self.onmessage = (e: MessageEvent) => {
  const m = e.data;
  if (m.mem) {
    ({ fd, mem, state, chunk } = m);
    postMessage("ready");
    return;
  }
  if (!Atomics.load(state, 1)) {
    const b = new Uint8Array(mem, m.slot * chunk, m.len);
    try {
      for (let off = 0; off < b.length; ) off += writeSync(fd, b, off, b.length - off);
    } catch (err) {
      Atomics.store(state, 1, ERRNO[(err as { code?: string }).code ?? ""] ?? 5);
    }
  }
  Atomics.add(state, 0, 1);
  Atomics.notify(state, 0);
};
