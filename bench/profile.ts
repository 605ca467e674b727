// profile.ts — where an attached XDP program spends its time, by source line, under real traffic.
// perf samples the CPU clock on every CPU while a command runs (this VM has no hardware counters;
// cpu-clock works), and each sample that lands in the program's JIT image is mapped back to its
// source line through the program's jited_line_info (src/ffi/lineinfo.ts) — perf cannot annotate
// BPF itself without libopcodes. Prints the kernel symbols that took the samples, then the
// program's share by source file and its busiest lines.
//   bun bench/profile.ts IFACE -- COMMAND…            (root; IFACE may be NETNS/IFNAME)
//   bun bench/profile.ts xl-dut -- dist/xdptool lab traffic --dns www.example.test --count 6000000
// TOP=N lines (default 40).
import { spawnSync } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enterNetns, resolveIface } from "../src/ffi/netns.ts";
import { xdpQuery } from "../src/ffi/xdp.ts";
import { jitedLines } from "../src/ffi/lineinfo.ts";

const [iface, dashes, ...cmd] = process.argv.slice(2);
if (!iface || dashes !== "--" || cmd.length === 0) {
  console.error("usage: bun bench/profile.ts IFACE -- COMMAND…");
  process.exit(2);
}
const progId = xdpQuery(resolveIface(iface).ifindex).progId;
enterNetns(null); // resolveIface entered the interface's namespace: the command runs from ours
if (!progId) throw new Error(`${iface} runs no XDP program`);
const lines = jitedLines(progId);
if (lines.length === 0) throw new Error(`program ${progId} has no line info (built without -g?)`);

const dir = mkdtempSync(join(tmpdir(), "xdptool-profile-"));
try {
  const data = join(dir, "perf.data");
  const rec = spawnSync(["perf", "record", "-q", "-a", "-e", "cpu-clock", "-F", "25000", "-o", data, "--", ...cmd], { stdout: "inherit", stderr: "inherit" });
  if (rec.exitCode !== 0) throw new Error(`perf record exited ${rec.exitCode}`);
  const script = spawnSync(["perf", "script", "-i", data, "-F", "ip,sym"], { stderr: "ignore" });
  const bySym = new Map<string, number>(), byLine = new Map<string, number>(), byFile = new Map<string, number>();
  const addrs = lines.map((l) => l.addr);
  let total = 0, ours = 0;
  for (const row of script.stdout.toString().split("\n")) {
    const [ip, sym = "?"] = row.trim().split(/\s+/);
    if (!ip) continue;
    total++;
    bySym.set(sym, (bySym.get(sym) ?? 0) + 1);
    const a = BigInt(`0x${ip}`);
    if (a < addrs[0] || a > addrs[addrs.length - 1] + 4096n) continue;
    // The last line starting at or before the address (binary search).
    let lo = 0, hi = addrs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (addrs[mid] <= a) lo = mid;
      else hi = mid - 1;
    }
    const l = lines[lo], file = l.file.split("/").pop()!;
    ours++;
    byFile.set(file, (byFile.get(file) ?? 0) + 1);
    const key = `${file}:${l.line}  ${l.text.slice(0, 100)}`;
    byLine.set(key, (byLine.get(key) ?? 0) + 1);
  }
  const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1).padStart(5)}%`;
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  console.log(`\n${total} samples; program ${progId} (${iface}): ${pct(ours, total)} of them`);
  console.log("\nkernel symbols (share of all samples):");
  for (const [s, n] of top(bySym, 15)) console.log(`  ${pct(n, total)}  ${s}`);
  console.log(`\nthe program by source file (share of its samples):`);
  for (const [f, n] of top(byFile, 20)) console.log(`  ${pct(n, ours)}  ${f}`);
  console.log(`\nits busiest lines (share of its samples):`);
  for (const [k, n] of top(byLine, Number(process.env.TOP ?? 40))) console.log(`  ${pct(n, ours)}  ${k}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
