// read-back.ts — `xdptool sample -r FILE`: a capture (ours, tcpdump's, Wireshark's) read back
// through the same filter and out through the same destination as a live capture: one line per
// packet as live printing prints it (interface and verdict where the file records them, "-"
// where it does not), or a new file with -w (and rotation with -C).
import { closeSync, writeSync } from "node:fs";
import { Destination } from "./destination.ts";
import { Filter } from "./filter.ts";
import { openCapture } from "../net/capture-read.ts";
import { writeError } from "./run.ts";
import type { LineOptions } from "./format.ts";
import type { RotateOptions } from "./rotate.ts";

export interface ReadBackOptions {
  read: string;
  expr?: string;
  write?: string;
  count?: number;
  snaplen: number;
  pcapng: boolean;
  rotate?: RotateOptions;
  line: LineOptions;
  json: boolean;
}

/** Lines are written in batches: one write per line would cost more than reading the packet. */
class Lines {
  private batch: string[] = [];
  closed = false;
  add(l: string): void {
    this.batch.push(l);
    if (this.batch.length >= 512) this.flush();
  }
  flush(): void {
    if (!this.batch.length || this.closed) return;
    const text = `${this.batch.join("\n")}\n`;
    this.batch = [];
    try {
      writeSync(1, text);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EPIPE") throw e;
      this.closed = true; // `| head`: the reader has what it wanted
    }
  }
}

export async function readBack(o: ReadBackOptions): Promise<void> {
  // The filter and the file are checked before anything is written.
  const filter = o.expr ? new Filter((await import("../ffi/pcap.ts")).compileFilter(o.expr, o.snaplen), o.expr) : undefined;
  const capture = openCapture(o.read);
  const lines = new Lines();
  let dest: Destination;
  try {
    dest = new Destination({ ...o, iface: { name: o.read }, print: (l) => lines.add(l) });
  } catch (e) {
    if (capture.fd !== 0) closeSync(capture.fd);
    throw e;
  }
  await dest.ready;
  let read = 0, matched = 0;
  const limit = o.count ?? Infinity;
  try {
    for (const p of capture.packets()) {
      read++;
      if (filter && !filter.match(p.buf, p.off, p.caplen, p.origlen)) continue;
      const caplen = Math.min(p.caplen, o.snaplen);
      dest.packet(p.t, p.buf, p.off, caplen, p.origlen, p.action, p.queue, p.ifname);
      if (++matched >= limit || lines.closed || dest.done || dest.failure()) break;
    }
  } catch (e) {
    // A file cut short or corrupt past its header: what came before is out; say where it ended.
    lines.flush();
    dest.finish({ received: read, dropped: 0, accepted: matched });
    throw e;
  } finally {
    if (capture.fd !== 0) closeSync(capture.fd);
  }
  lines.flush();
  dest.finish({ received: read, dropped: 0, accepted: matched });
  const counts = { read, matched, filtered: filter ? read - matched : 0 };
  const out = o.write && o.write !== "-" ? console.log : console.error;
  if (o.json) out(JSON.stringify(counts));
  else console.error(`xdptool: ${matched} packets${filter ? ` of ${read} matched "${o.expr}"` : ""} from ${o.read}`);
  const err = writeError(dest, o.write);
  if (err) throw err;
}
