// helpers.ts — what every test needs: the binary under test, running it, compiling C probes.
import { spawnSync } from "bun";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enterNetns } from "../src/ffi/netns.ts";

export const ROOT = join(import.meta.dir, "..");
/** The binary under test; XDPTOOL=path overrides (e.g. to test an installed copy). */
export const XDPTOOL = process.env.XDPTOOL ?? join(ROOT, "dist/xdptool");
/** The lab used by tests; its own prefix so tests never touch a lab an operator left up. */
export const LAB = process.env.XDPTOOL_LAB ?? "xt";
export const GEN = `${LAB}-gen`;
export const DUT = `${LAB}-dut`;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command (no shell); never throws on a non-zero exit. Always from the namespace the tests
 *  started in: a test that sent frames through resolveIface() may have left this thread in a
 *  lab namespace, and a child would inherit it. */
export function sh(cmd: string[], opts: { env?: Record<string, string>; input?: string } = {}): Result {
  enterNetns(null);
  const p = spawnSync(cmd, {
    env: { ...process.env, XDPTOOL_LAB: LAB, ...opts.env },
    stdin: opts.input !== undefined ? Buffer.from(opts.input) : "ignore",
  });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

/** Run xdptool with arguments. */
export function xt(...args: string[]): Result {
  return sh([XDPTOOL, ...args]);
}

/** Run xdptool and insist on success; returns stdout. */
export function xtOk(...args: string[]): string {
  const r = xt(...args);
  if (r.code !== 0) throw new Error(`xdptool ${args.join(" ")} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Run a command inside one of the lab's namespaces. */
export function inNs(ns: string, cmd: string[]): Result {
  return sh(["ip", "netns", "exec", ns, ...cmd]);
}

/** Compile a C program against the system headers, run it, return stdout. */
export function compileAndRun(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), "xdptool-c-"));
  writeFileSync(join(dir, "p.c"), source);
  const cc = sh(["cc", "-I", join(ROOT, "libbpf/out/include"), "-o", join(dir, "p"), join(dir, "p.c")]);
  if (cc.code !== 0) throw new Error(`cc failed: ${cc.stderr}`);
  return sh([join(dir, "p")]).stdout;
}

/** Parse JSON output of a command that must succeed. */
export function json<T = any>(...args: string[]): T {
  return JSON.parse(xtOk(...args, "--json"));
}

/** The kernel's own per-veth counters (ethtool -S), an oracle independent of our maps. */
export function ethtoolStats(ns: string, ifname: string): Record<string, number> {
  const r = inNs(ns, ["ethtool", "-S", ifname]);
  const out: Record<string, number> = {};
  for (const m of r.stdout.matchAll(/^\s*([\w]+):\s*(\d+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

/** Bring the test lab up with nothing loaded on the DUT end. */
export function freshLab(): void {
  xtOk("lab", "up");
  xt("unload", DUT, "--force");
}
