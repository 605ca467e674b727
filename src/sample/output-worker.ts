// output-worker.ts — the capture's writer thread. The reader (output.ts) fills 2 MiB chunks of
// one page-aligned mapping and posts "chunk k is ready, n bytes"; this thread writes them in
// order and counts them done, so the reader never waits for the disk (or a pipe) while the kernel
// keeps filling its buffers. Same process, so the chunk is the reader's memory itself: no copy.
import { writeSync } from "node:fs";
import { prefault, viewAt } from "../ffi/mmap.ts";
import { setDirectIo } from "../ffi/fd.ts";
import { errnoOf } from "./output.ts";

export interface WriterInit {
  fd: number;
  /** Address of the chunks (the mapping stays alive until the worker is done). */
  base: number;
  chunk: number;
  chunks: number;
  /** [0] chunks done, [1] errno of the first failed write (0: none). */
  state: Int32Array;
  direct: boolean;
}

let w: WriterInit;

function write(slot: number, len: number): void {
  const b = viewAt(w.base + slot * w.chunk, len);
  for (let off = 0; off < len; ) {
    try {
      off += writeSync(w.fd, b, off, len - off);
    } catch (err) {
      // A file system that took O_DIRECT at open but not these writes: carry on buffered.
      if (!w.direct || (err as { code?: string }).code !== "EINVAL") throw err;
      w.direct = false;
      setDirectIo(w.fd, false);
    }
  }
}

self.onmessage = (e: MessageEvent) => {
  const m = e.data;
  if (m.state) {
    w = m;
    // Fault the other chunks in here, while the reader's thread loads the program (see prefault);
    // the first is the reader's own until the first hand-over (the file header is in it already).
    prefault(viewAt(w.base + w.chunk, w.chunk * (w.chunks - 1)), true);
    postMessage("ready");
    return;
  }
  // Whatever happens, the chunk is counted done: the reader waits for that count.
  try {
    if (!Atomics.load(w.state, 1)) write(m.slot, m.len);
  } catch (err) {
    Atomics.store(w.state, 1, errnoOf(err));
  }
  Atomics.add(w.state, 0, 1);
  Atomics.notify(w.state, 0);
};
