// frames.ts — a capture's frames through a program under test, one at a time, each with what it
// printed (bpf_printk) and submitted to ring buffers: lines are read from the trace pipe right
// after the frame's run, and only this process's are kept, so each line belongs to the frame that
// was running; the rings are drained after each frame the same way.
import { UsageError } from "../errors.ts";
import type { CapturedFrame } from "../net/capture-read.ts";
import { frameSummary } from "../net/summary.ts";
import type { TracePipe } from "../ffi/tracefs.ts";
import type { RingBuffer } from "../ffi/ringbuf.ts";
import type { ProgramUnderTest } from "./program.ts";

export const VERDICTS = ["ABORTED", "DROP", "PASS", "TX", "REDIRECT"] as const;
export const verdictName = (action: number): string => VERDICTS[action] ?? `ACTION ${action}`;

export interface FrameResult {
  /** 1-based, as Wireshark numbers frames. */
  n: number;
  action: number;
  input: CapturedFrame;
  /** The frame as the program left it. */
  out: Buffer;
  /** bpf_printk lines written while this frame ran (with --trace). */
  trace?: string[];
  /** Records the frame's run submitted to each --map ring buffer, in hex. */
  records?: Record<string, string[]>;
}

/** A ring buffer the program submits to, read after each frame. */
export interface RingReader {
  name: string;
  ring: RingBuffer;
}

/** The kernel runs no frame shorter than an Ethernet header (EINVAL): said before anything runs. */
export function checkFrames(frames: CapturedFrame[], name: string): void {
  const short = frames.findIndex((f) => f.data.length < 14);
  if (short >= 0) throw new UsageError(`${name}: frame ${short + 1} is ${frames[short].data.length} bytes; an XDP program is run on at least an Ethernet header (14 bytes)`);
}

export function* runFrames(prog: ProgramUnderTest, frames: CapturedFrame[], trace?: TracePipe, rings: RingReader[] = []): Generator<FrameResult> {
  trace?.take(); // what was there before is not ours
  for (const r of rings) r.ring.skipAll(); // nor what the maps' seeding left
  for (let i = 0; i < frames.length; i++) {
    let ran: { action: number; out: Buffer };
    try {
      ran = prog.run(frames[i].data);
    } catch (e) {
      if (e instanceof Error) e.message = `frame ${i + 1} (${frames[i].data.length} bytes): ${e.message}`;
      throw e;
    }
    const { action, out } = ran;
    const r: FrameResult = { n: i + 1, action, input: frames[i], out };
    if (trace) r.trace = trace.take().filter((l) => l.pid === process.pid).map((l) => l.text);
    if (rings.length) {
      r.records = {};
      for (const { name, ring } of rings) {
        const got: string[] = (r.records[name] = []);
        ring.drain((b, off, len) => got.push(b.toString("hex", off, off + len)));
      }
    }
    yield r;
  }
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

/** "   3  TX          -4  IP 198.18.0.2 > 198.18.0.1: ICMP, length 8", and under it the frame's
 *  trace lines and ring-buffer records. */
export function resultText(r: FrameResult): string {
  const head = `${String(r.n).padStart(4)}  ${verdictName(r.action).padEnd(8)} ${signed(r.out.length - r.input.data.length).padStart(5)}  ${frameSummary(r.out)}`;
  const records = Object.entries(r.records ?? {}).flatMap(([name, hex]) => hex.map((h) => `        ${name}: ${h}`));
  return [head, ...(r.trace ?? []).map((t) => `        printk: ${t}`), ...records].join("\n");
}

export function resultJson(r: FrameResult): Record<string, unknown> {
  return {
    frame: r.n, verdict: verdictName(r.action), action: r.action,
    len_in: r.input.data.length, len_out: r.out.length, len_change: r.out.length - r.input.data.length,
    summary: frameSummary(r.out), data: r.out.toString("hex"),
    ...(r.trace ? { trace: r.trace } : {}),
    ...(r.records ? { records: r.records } : {}),
  };
}
