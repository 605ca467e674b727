// tracefs.ts — what bpf_printk writes: the kernel's trace pipe (/sys/kernel/tracing/trace_pipe).
// tracefs is mounted there when nothing is (as `mount -t tracefs tracefs /sys/kernel/tracing`).
// Reading the pipe consumes its lines — for everyone, as with `bpftool prog tracelog`.
import { closeSync, constants, existsSync, openSync, readSync } from "node:fs";
import { OpError } from "../errors.ts";
import { cstr, errno, libc } from "./native.ts";
import { errnoName } from "./errno.ts";

const ROOTS = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

function tracefsRoot(): string {
  for (const r of ROOTS) if (existsSync(`${r}/trace_pipe`)) return r;
  if (libc.symbols.mount(cstr("tracefs"), cstr(ROOTS[0]), cstr("tracefs"), 0n, null) !== 0) {
    throw new OpError(`mount tracefs on ${ROOTS[0]} (needed to read bpf_printk's lines): ${errnoName(errno())}`);
  }
  return ROOTS[0];
}

/** One bpf_printk line: which task wrote it, and its text. */
export interface TraceLine {
  pid: number;
  text: string;
}

export class TracePipe {
  private fd: number;
  private rest = "";
  private readonly buf = Buffer.alloc(1 << 16);

  constructor() {
    const path = `${tracefsRoot()}/trace_pipe`;
    try {
      this.fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      throw new OpError(`open ${path}: ${(e as NodeJS.ErrnoException).code}`);
    }
  }

  /** Every bpf_printk line written since the last call (other trace events are skipped). */
  take(): TraceLine[] {
    let text = this.rest;
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EAGAIN") break; // nothing more for now
        throw e;
      }
      if (n <= 0) break;
      text += this.buf.toString("utf8", 0, n);
    }
    const lines = text.split("\n");
    this.rest = lines.pop() ?? "";
    const out: TraceLine[] = [];
    // "  comm-PID  [CPU] flags  TIME: bpf_trace_printk: TEXT" (the comm may hold dashes itself).
    for (const l of lines) {
      const m = /-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[\d+\].*?: bpf_trace_printk: (.*)$/.exec(l);
      if (m) out.push({ pid: Number(m[1]), text: m[2] });
    }
    return out;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
