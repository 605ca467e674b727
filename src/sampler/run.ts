// run.ts — `xdptool sample`: validate everything, open the output, run the session, report.
// Every check that can fail on the operator's input happens before the sampler is attached.
import { existsSync } from "node:fs";
import { trimToWholeRecords } from "./trim.ts";
import { OpError } from "../errors.ts";
import { Destination } from "./destination.ts";
import { Filter } from "./filter.ts";
import type { LineOptions } from "./format.ts";
import type { RotateOptions } from "./rotate.ts";
import type { SampleResult, Transport } from "./session.ts";

export interface RunOptions {
  ifname: string;
  expr?: string;
  write?: string;
  count?: number;
  durationMs?: number;
  rate: number;
  snaplen: number;
  pcapng: boolean;
  kernelFilter: boolean;
  transport: Transport;
  bufferBytes: number;
  dropAfterSample: boolean;
  /** Verdict mask for --action (0 = all). */
  actions: number;
  json: boolean;
  /** -C, -G, -W (with -w FILE). */
  rotate?: RotateOptions;
  /** -e, -x (printed lines). */
  line: LineOptions;
}

/** Buffers from this size on take long enough to prepare that the operator is told (~0.6 s). */
const PREPARE_NOTICE_BYTES = 64 << 20;

/** "N packets captured, N sampled out, N lost in kernel buffers, N filtered": adds up to what the program saw. */
export function summary(r: SampleResult): string {
  let s = `${r.captured} packets captured, ${r.sampledOut} sampled out, ${r.lost} lost in kernel buffers, ${r.filtered} filtered`;
  if (r.overLimit) s += `, ${r.overLimit} past the -c limit`;
  return `${s} (of ${r.seen} seen)`;
}

/** A write that ended the capture, as the command's error (EPIPE — the reader went away — is none). */
export function writeError(dest: Destination, write?: string): OpError | null {
  const failed = dest.failed;
  if (!failed || failed.code === "EPIPE") return null;
  const where = write === "-" ? "standard output" : (dest.files.at(-1) ?? write);
  // The failed write may have left half a record at the end: cut it off, so readers take the file whole.
  if (write && write !== "-" && existsSync(where)) trimToWholeRecords(where);
  return new OpError(`write ${where}: ${failed.code ?? failed.message} — the capture stopped there; every whole packet written before is kept`);
}

export async function run(o: RunOptions): Promise<void> {
  const filter = o.expr ? new Filter((await import("../ffi/pcap.ts")).compileFilter(o.expr, o.snaplen), o.expr) : undefined;
  const { requireCaps } = await import("../privileges.ts");
  requireCaps("xdptool sample");
  const { resolveIface } = await import("../ffi/netns.ts");
  const iface = resolveIface(o.ifname);
  const { sample, refuseBusy } = await import("./session.ts");
  const kind = refuseBusy(iface, o); // before creating the output file: nothing half-done on refusal
  if (kind === "standalone") {
    // Every page of the buffers is touched before the capture (docs/A-measurements.md): say so when that takes a while.
    const bytes = o.transport === "perf" ? o.bufferBytes * (await import("../ffi/map.ts")).possibleCpus() : o.bufferBytes;
    if (bytes >= PREPARE_NOTICE_BYTES) console.error(`xdptool: preparing ${bytes >> 20} MiB of capture buffers (every page is touched before the capture starts, ~0.15 s per 16 MiB)`);
  }
  const dest = new Destination({ ...o, iface, print: (l) => console.log(l) });
  // A failed write (the reader of a pipe went away: EPIPE; a full disk: ENOSPC…) stops the
  // capture; the counts are still reported, and anything but EPIPE is an error after them.
  const r = await sample({
    iface, transport: o.transport, rate: o.rate, snaplen: o.snaplen, bufferBytes: o.bufferBytes, filter, kernelFilter: o.kernelFilter,
    count: o.count, durationMs: o.durationMs, dropAfterSample: o.dropAfterSample, actions: o.actions, shouldStop: () => dest.done || dest.failure() !== null,
    beforeAttach: () => dest.ready, bulk: dest.bulk,
    // Like tcpdump's "listening on": says the capture has started (tests wait for it).
    onAttached: (mode) => console.error(`xdptool: sampling ${iface.name} (${mode} XDP, ${o.transport}, snaplen ${o.snaplen}${o.rate > 1 ? `, 1 in ${o.rate}` : ""}${o.expr ? `, filter "${o.expr}" in ${o.kernelFilter ? "the kernel" : "user space"}` : ""})`),
    onPacket: (t, b, off, cap, orig, action, queue) => dest.packet(t, b, off, cap, orig, action, queue, iface.name),
  }).catch(async (e) => {
    // Loading or attaching failed: do not leave an empty capture file behind. (The writer thread
    // must have answered first: closing unmaps the chunks it may still be touching.)
    await dest.ready;
    if (o.write !== "-") dest.discard();
    throw e;
  });
  dest.finish({ received: r.seen, dropped: r.lost, accepted: r.captured + r.overLimit });
  // The summary goes to stdout unless stdout carries the capture (-w -) or the packet lines.
  const summaryOut = o.write && o.write !== "-" ? console.log : console.error;
  if (o.json) summaryOut(JSON.stringify(r));
  else console.error(`xdptool: ${summary(r)}`);
  if (r.interfaceGone) throw new OpError(`${iface.name} went away (deleted, or moved to another namespace): the capture stopped there${o.write && o.write !== "-" ? `; ${dest.files.at(-1)} holds what was captured` : ""}`);
  const err = writeError(dest, o.write);
  if (err) throw err;
}
