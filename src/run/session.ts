// session.ts — `xdptool run` from loaded program to last line: seed maps, run the frames (with
// their trace lines and ring-buffer records), print each, write the output capture, show the maps.
import { openSync } from "node:fs";
import { UsageError } from "../errors.ts";
import type { CapturedFrame } from "../net/capture-read.ts";
import { Output } from "../sampler/output.ts";
import { PcapngWriter } from "../sampler/pcapng-writer.ts";
import { TracePipe } from "../ffi/tracefs.ts";
import { RingBuffer } from "../ffi/ringbuf.ts";
import { CLOCK_REALTIME, clockNs } from "../ffi/clock.ts";
import { resultJson, resultText, runFrames, verdictName, type RingReader } from "./frames.ts";
import { dumpMap, seedMap, type MapSpec } from "./maps.ts";
import { ProgramUnderTest, type LoadRequest } from "./program.ts";

export interface RunOptions extends LoadRequest {
  frames: CapturedFrame[];
  /** Path of the pcapng to write the output frames to. */
  write?: string;
  trace?: boolean;
  maps: MapSpec[];
  json?: boolean;
}

function openOutput(path: string): Output {
  try {
    return new Output(openSync(path, "w"), true);
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export async function runCapture(o: RunOptions): Promise<void> {
  const prog = ProgramUnderTest.load(o);
  let trace: TracePipe | undefined;
  let out: Output | undefined;
  const rings: RingReader[] = [];
  try {
    const isRing = (m: MapSpec) => prog.map(m.name).info.typeName === "ringbuf";
    const tables = o.maps.filter((m) => !isRing(m));
    for (const m of o.maps) if (isRing(m) && m.seed) throw new UsageError(`--map ${m.name}=${m.seed}: ${m.name} is a ring buffer; it is read, not filled (--map ${m.name})`);
    for (const m of tables) seedMap(prog, m);
    for (const m of o.maps.filter(isRing)) {
      const map = prog.map(m.name);
      rings.push({ name: m.name, ring: new RingBuffer(map.fd, map.info.maxEntries) });
    }
    trace = o.trace ? new TracePipe() : undefined;
    out = o.write ? openOutput(o.write) : undefined;
    await out?.ready; // the writer thread touches the buffers: unmapping them before it answers would crash it
    const writer = out ? new PcapngWriter(out, 262144, { name: "xdptool-run" }, () => clockNs(CLOCK_REALTIME), undefined, `xdptool run ${o.objectName}`) : undefined;
    const counts = new Map<string, number>();
    for (const r of runFrames(prog, o.frames, trace, rings)) {
      const verdict = verdictName(r.action);
      counts.set(verdict, (counts.get(verdict) ?? 0) + 1);
      console.log(o.json ? JSON.stringify(resultJson(r)) : resultText(r));
      const orig = Math.max(r.out.length, r.input.origLen + r.out.length - r.input.data.length);
      writer?.annotated(r.input, r.out, orig, { comment: `frame ${r.n}: XDP_${verdict}`, xdpVerdict: r.action });
    }
    writer?.finish({ received: o.frames.length, dropped: 0, accepted: o.frames.length });
    for (const m of tables) {
      const entries = dumpMap(prog, m.name, !!o.json);
      if (o.json) console.log(JSON.stringify({ map: m.name, entries }));
      else console.log(`map ${m.name}:\n${(entries as string[]).map((e) => `  ${e.replace(/\n/g, "\n  ")}`).join("\n")}`);
    }
    if (!o.json) console.error(`${o.frames.length} frames through ${prog.name}: ${[...counts].map(([v, n]) => `${n} ${v}`).join(", ") || "none"}`);
  } finally {
    out?.close();
    trace?.close();
    for (const r of rings) r.ring.close();
    prog.close();
  }
}
