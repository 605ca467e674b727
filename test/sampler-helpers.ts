// sampler-helpers.ts — what the sample test files share: their lab, a sampler started and stopped
// as a user would (waiting for its "sampling" line), and readers of what it wrote.
import { afterAll, afterEach, beforeAll, expect } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { DUT, LAB, XDPTOOL, freshLab, inNs, xt, xtOk } from "./helpers.ts";

export const dir = mkdtempSync(join(tmpdir(), "xt-sample-"));
export const f = (name: string) => join(dir, name);

export const started: ReturnType<typeof Bun.spawn>[] = [];
/** The lab for a sample test file; a failed test never leaves its sampler running (it would
 *  hold the DUT for the next test). */
export function sampleLab(): void {
  beforeAll(() => freshLab());
  afterEach(async () => {
    for (const p of started.splice(0)) if (p.exitCode === null) { p.kill("SIGKILL"); await p.exited; }
  });
  afterAll(() => xt("lab", "down"));
}

export interface Running {
  proc: ReturnType<typeof Bun.spawn>;
  stderr: () => string;
  stdout: () => string;
}

/** Start `xdptool sample DUT …` and wait until the sampler is attached. */
export async function startSample(...args: string[]): Promise<Running> {
  const proc = Bun.spawn([XDPTOOL, "sample", DUT, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, XDPTOOL_LAB: LAB } });
  started.push(proc);
  let err = "", out = "";
  (async () => { for await (const c of proc.stderr as ReadableStream<Uint8Array>) err += Buffer.from(c).toString(); })();
  (async () => { for await (const c of proc.stdout as ReadableStream<Uint8Array>) out += Buffer.from(c).toString(); })();
  for (let i = 0; i < 200 && !err.includes("xdptool: sampling") && proc.exitCode === null; i++) await Bun.sleep(25);
  if (!err.includes("xdptool: sampling")) throw new Error(`sampler did not start: ${err}`);
  return { proc, stderr: () => err, stdout: () => out };
}

/** Stop it like Ctrl-C; returns its final counts (--json: stdout with -w FILE, else stderr). */
export async function stop(r: Running, signal: NodeJS.Signals = "SIGINT"): Promise<any> {
  r.proc.kill(signal);
  const code = await r.proc.exited;
  await Bun.sleep(20);
  expect(code).toBe(0);
  const line = (r.stdout() + r.stderr()).split("\n").find((l) => l.startsWith("{"));
  return line ? JSON.parse(line) : null;
}

/** Wait until a sampler started by someone else (a shell pipeline) is on the DUT. */
export async function attached(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (JSON.parse(inNs(DUT, ["ip", "-j", "link", "show", DUT]).stdout)[0].xdp?.prog?.name === "sampler") return;
    await Bun.sleep(25);
  }
  throw new Error("sampler did not attach");
}

export function traffic(...args: string[]): void {
  xtOk("lab", "traffic", ...args);
}

/** The packets of a pcap file (either timestamp resolution). */
export function readPcap(path: string): { caplen: number; len: number; data: Buffer }[] {
  const b = readFileSync(path);
  expect([0xa1b2c3d4, 0xa1b23c4d]).toContain(b.readUInt32LE(0));
  const out = [];
  for (let p = 24; p < b.length; ) {
    const caplen = b.readUInt32LE(p + 8), len = b.readUInt32LE(p + 12);
    out.push({ caplen, len, data: b.subarray(p + 16, p + 16 + caplen) });
    p += 16 + caplen;
  }
  return out;
}

/** The counters in a pcapng file's interface statistics block (isb_ifrecv, isb_ifdrop, isb_filteraccept). */
export function isb(b: Buffer): Record<string, number> {
  for (let p = 0; p < b.length; p += b.readUInt32LE(p + 4)) {
    if (b.readUInt32LE(p) !== 5) continue;
    const out: Record<string, number> = {};
    const names: Record<number, string> = { 4: "ifrecv", 5: "ifdrop", 6: "filteraccept" };
    for (let o = p + 20; b.readUInt16LE(o) !== 0; o += 4 + ((b.readUInt16LE(o + 2) + 3) & ~3)) {
      const name = names[b.readUInt16LE(o)];
      if (name) out[name] = Number(b.readBigUInt64LE(o + 4));
    }
    return out;
  }
  throw new Error("no interface statistics block");
}

/** tshark/capinfos print this as root; anything else on stderr is a warning about our file. */
export const warnings = (s: string) => s.split("\n").filter((l) => l && !l.includes("Running as user")).join("\n");

export function addsUp(c: any): void {
  expect(c.captured + c.sampledOut + c.lost + c.filtered + c.overLimit).toBe(c.seen);
  expect(c.submitted + c.lost + c.sampledOut + c.kernelFiltered).toBe(c.seen);
}

