// output-worker.ts — the capture's writer thread. The reader (output.ts) fills 2 MiB chunks of
// one page-aligned mapping and posts "chunk k is ready, n bytes"; this thread writes them in
// order and counts them done, so the reader never waits for the disk (or a pipe) while the kernel
// keeps filling its buffers. Same process, so the chunk is the reader's memory itself: no copy.
import { prefault, viewAt } from "../ffi/mmap.ts";
import { writeChunk } from "./output.ts";

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

// This thread only writes captures: the normal JIT, not the binary's start-up policy (main.ts).
Bun.unsafe.setJITPolicy(1);

let w: WriterInit;
let direct = { on: false };

self.onmessage = (e: MessageEvent) => {
  const m = e.data;
  if (m.state) {
    w = m;
    direct = { on: w.direct };
    // Fault the other chunks in here, while the reader's thread loads the program (see prefault);
    // the first is the reader's own until the first hand-over (the file header is in it already).
    prefault(viewAt(w.base + w.chunk, w.chunk * (w.chunks - 1)), true);
    postMessage("ready");
    return;
  }
  if (m.slot === undefined) {
    // The next file of a rotating capture (the reader flushed the last one first).
    w.fd = m.fd;
    direct = { on: m.direct };
    return;
  }
  // Whatever happens, the chunk is counted done: the reader waits for that count. After a failed
  // write the rest are only counted (the reader stops at the error).
  if (!Atomics.load(w.state, 1)) Atomics.store(w.state, 1, writeChunk(w.fd, viewAt(w.base + m.slot * w.chunk, m.len), direct));
  Atomics.add(w.state, 0, 1);
  Atomics.notify(w.state, 0);
};
