// dump.ts — every entry of a map, in batches where the kernel supports it (one syscall per few
// thousand entries), else key by key; a progress line on stderr when stderr is a terminal.
import type { BpfMap } from "../ffi/map.ts";
import { MapCodec, type Entry } from "./codec.ts";
import { writeAll } from "../table.ts";

const CHUNK = 4096;

/** Calls `each` for every entry; returns how many there were and whether batches were used. */
export function walkEntries(map: BpfMap, codec: MapCodec, each: (e: Entry) => void): { count: number; batched: boolean } {
  const progress = process.stderr.isTTY ? new Progress(map.info.maxEntries) : null;
  let count = 0;
  const ks = map.info.keySize, vs = map.valueBytes;
  const batched = map.lookupBatch(CHUNK, (keys, values, n) => {
    for (let i = 0; i < n; i++) each(codec.entry(keys, i * ks, values, i * vs));
    count += n;
    progress?.show(count);
  });
  if (!batched) {
    for (const k of map.keys()) {
      const v = map.lookup(k);
      if (!v) continue; // deleted while we walked
      each(codec.entry(k, 0, v, 0));
      if (++count % CHUNK === 0) progress?.show(count);
    }
  }
  progress?.done();
  return { count, batched };
}

class Progress {
  private last = 0;
  constructor(readonly max: number) {}
  show(n: number): void {
    const now = performance.now();
    if (now - this.last < 100) return;
    this.last = now;
    process.stderr.write(`\r${n} entries${this.max ? ` (max ${this.max})` : ""}…`);
  }
  done(): void {
    if (this.last) process.stderr.write("\r\x1b[K");
  }
}

/** Buffered synchronous stdout: a million lines without a million writes or unbounded memory. */
export class Out {
  private parts: string[] = [];
  private size = 0;
  write(s: string): void {
    this.parts.push(s);
    if ((this.size += s.length) > 1 << 20) this.flush();
  }
  flush(): void {
    const text = this.parts.join("");
    this.parts = [];
    this.size = 0;
    writeAll(text); // a reader that left (| head) ends it as SIGPIPE would, not with an EPIPE error
  }
}
