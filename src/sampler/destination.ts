// destination.ts — where a capture's packets go: a pcap/pcapng file (rotating with -C/-G/-W as
// tcpdump does, see rotate.ts), standard output (-w -), or one printed line per packet. Shared
// by live captures (run.ts) and captures read back (-r, read-back.ts).
import { openSync, rmSync } from "node:fs";
import { UsageError } from "../errors.ts";
import { Output, type CaptureStats, type CaptureWriter, type Stamp } from "./output.ts";
import { PcapWriter } from "./pcap-writer.ts";
import { PcapngWriter } from "./pcapng-writer.ts";
import { formatPacket, type LineOptions } from "./format.ts";
import { Rotation, type RotateOptions } from "./rotate.ts";
import { CLOCK_REALTIME, clockNs } from "../ffi/clock.ts";

export interface DestinationOptions {
  write?: string;
  pcapng: boolean;
  snaplen: number;
  expr?: string;
  rotate?: RotateOptions;
  line: LineOptions;
  /** The interface recorded in a pcapng file. */
  iface: { name: string; ifindex?: number };
  /** How a printed line leaves (console.log live; batched when reading a file). */
  print(line: string): void;
}

/** Where records may be written in bulk: `window` as in Destination.window, `wrote` moves past what was written there. */
export interface BulkOut {
  pcapng: boolean;
  window(need: number): BulkWindow | null;
  wrote(bytes: number): void;
}

/** Write at `address` (`room` bytes free); the file holds `size` bytes; a record past `sizeLimit`
 *  bytes or at second `secLimit` may start the next file (Destination.packet decides). */
export interface BulkWindow {
  address: number;
  room: number;
  size: number;
  sizeLimit: number;
  secLimit: number;
}

export class Destination {
  private out: Output | null = null;
  private writer: CaptureWriter | null = null;
  private rotation: Rotation | null = null;
  /** Files this capture created (removed again if it never starts). */
  readonly files: string[] = [];
  /** The write error that ended the capture (EPIPE, ENOSPC…), or null. */
  failed: NodeJS.ErrnoException | null = null;
  /** -G with -W: the last file is done; the capture should end. */
  done = false;

  constructor(private readonly o: DestinationOptions) {
    if (o.write === "-") this.out = new Output(1, false);
    else if (o.write) {
      if (o.rotate) this.rotation = new Rotation(o.write, o.rotate, Math.floor(Date.now() / 1000));
      this.out = new Output(this.create(this.rotation?.name() ?? o.write), true);
    }
    if (this.out) this.writer = o.pcapng ? new PcapngWriter(this.out, o.snaplen, o.iface, realtime, o.expr) : new PcapWriter(this.out, o.snaplen);
  }

  /** Settles once the writer thread is ready (await before the first packet). */
  get ready(): Promise<void> {
    return this.out?.ready ?? Promise.resolve();
  }

  private create(name: string): number {
    try {
      const fd = openSync(name, "w");
      if (!this.files.includes(name)) this.files.push(name);
      return fd;
    } catch (e) {
      throw new UsageError(`cannot write ${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }

  /** One packet; action and queue -1 where unknown. Chosen once (the hot path of a capture): a
   *  printed line, a write, or a write after the rotation's look at the file. */
  readonly packet: (t: Stamp, b: Buffer, off: number, caplen: number, origlen: number, action: number, queue: number, ifname: string) => void = (t, b, off, caplen, origlen, action, queue, ifname) => {
    const w = this.writer;
    if (!w) {
      this.o.print(formatPacket(t, b, off, caplen, origlen, ifname, action, this.o.line));
      return;
    }
    if (this.failed || this.done) return;
    try {
      if (this.rotation && !this.rotate(t)) return;
      w.packet(t, b, off, caplen, origlen, action, queue);
    } catch (e) {
      this.failed = e as NodeJS.ErrnoException;
    }
  };

  /** Where the native reader may write records itself (pcap or pcapng, live captures to a file
   *  or stdout), or null: printed lines go packet by packet. */
  get bulk(): BulkOut | null {
    if (!this.out) return null;
    return { pcapng: this.o.pcapng, window: (need) => this.window(need), wrote: (bytes) => { this.out!.pos += bytes; } };
  }

  /** Room for at least `need` bytes, with what decides the next move of a rotation; null once the
   *  capture failed or is done (the caller then goes packet by packet, which drops them). */
  private window(need: number): BulkWindow | null {
    if (this.failed || this.done) return null;
    try {
      const out = this.out!;
      out.reserve(need);
      const { address, room } = out.window();
      const lim = this.rotation?.limits() ?? { size: Infinity, sec: Infinity };
      return { address, room, size: out.size(), sizeLimit: lim.size, secLimit: lim.sec };
    } catch (e) {
      this.failed = e as NodeJS.ErrnoException;
      return null;
    }
  }

  /** Before a packet at t: move on to the next file if it is time; false when the capture is done. */
  private rotate(t: Stamp): boolean {
    const step = this.rotation!.advance(t.sec, this.out!.size());
    if (step === "stop") {
      this.done = true;
      return false;
    }
    if (step === "next") {
      this.out!.switchTo(this.create(this.rotation!.name()));
      this.writer!.restart();
    }
    return true;
  }

  /** A write failure seen by the writer thread, without waiting for the next chunk. */
  failure(): NodeJS.ErrnoException | null {
    return (this.failed ??= this.out?.failure() ?? null);
  }

  /** Write the end (pcapng statistics) and close. */
  finish(stats: CaptureStats): void {
    try {
      this.writer?.finish(stats);
      this.out?.close();
    } catch (e) {
      this.failed ??= e as NodeJS.ErrnoException;
    }
  }

  /** The capture never started: close, and remove every file it created. */
  discard(): void {
    try {
      this.out?.close();
    } catch {
      // nothing of value was written
    }
    for (const f of this.files) rmSync(f, { force: true });
  }
}

const realtime = () => clockNs(CLOCK_REALTIME);
