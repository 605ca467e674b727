// sampler.bench.ts — `xdptool sample` against tcpdump, and perf vs ring buffer, in one run.
//
//   XDPTOOL_LAB=hp node_modules/.bin/bun bench/sampler.bench.ts   (needs dist/xdptool, root)
//
// (a) passed traffic: the same N frames captured by `tcpdump -w` (on the DUT, behind an XDP pass
//     program) and by `xdptool sample -w`; rate = the sender's rate (LIVE_FRAMES is held back to
//     the receiver's pace), loss = what each tool reports.
// (b) capture-and-drop (--drop-after-sample): 64-byte frames written to a pcap file, per transport,
//     at several LIVE_FRAMES batch sizes (smaller batches = lower offered rate) — the highest rate
//     with zero loss, the loss at full rate, and the reader's CPU time per packet.
// (c) the tcpdump filter in the kernel vs in user space, on traffic it rejects entirely.
// (d) capture-and-drop at 1:1 (64-byte frames, full rate) as a ratio to bare XDP_DROP, rounds
//     interleaved with it: pcap, pcapng, and a rotated capture (-C 20); lossless by the sampler's
//     own counters (seen = captured, 0 lost), the kernel's (veth rx_queue_0_xdp_drops counts every
//     frame sent: none lost before XDP) and the file (every record in it).
// ONLY=d runs part (d) alone, printed and not recorded (quick looks while working on the reader).
// Results replace the sampler section of bench/RESULTS.md (the run before goes to bench/history/);
// figures are ratios within this run.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { recordResults } from "../src/bench/results.ts";
import { join } from "node:path";
import { tmpdir } from "node:os";

const ROOT = join(import.meta.dir, "..");
const XT = process.env.XDPTOOL ?? join(ROOT, "dist/xdptool");
const LAB = process.env.XDPTOOL_LAB ?? "xb";
const DUT = `${LAB}-dut`;
const env = { ...process.env, XDPTOOL_LAB: LAB };
const dir = mkdtempSync(join(tmpdir(), "xt-bench-"));

function run(cmd: string[]): string {
  const p = Bun.spawnSync(cmd, { env });
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout.toString();
}
const send = (count: number, batch = 64, size = 64): { pps: number } =>
  JSON.parse(run([XT, "lab", "traffic", "--count", String(count), "--size", String(size), "--batch", String(batch), "--json"]));

async function waitFor(proc: ReturnType<typeof Bun.spawn>, marker: string): Promise<() => string> {
  let err = "";
  (async () => { for await (const c of proc.stderr as ReadableStream<Uint8Array>) err += Buffer.from(c).toString(); })();
  for (let i = 0; i < 400 && !err.includes(marker); i++) await Bun.sleep(25);
  if (!err.includes(marker)) throw new Error(`no "${marker}": ${err}`);
  return () => err;
}

async function sampler(args: string[], count: number, batch: number, size = 64, out = join(dir, "s.pcap")) {
  const p = Bun.spawn([XT, "sample", DUT, "-w", out, "--json", ...args], { env, stdout: "pipe", stderr: "pipe" });
  await waitFor(p, "xdptool: sampling");
  const r = send(count, batch, size);
  p.kill("SIGINT");
  // With -w FILE the JSON summary is on stdout.
  const [, text] = await Promise.all([p.exited, new Response(p.stdout as ReadableStream).text()]);
  const c = JSON.parse(text.split("\n").find((l) => l.startsWith("{"))!);
  return { pps: r.pps, lost: c.lost, captured: c.captured, seen: c.seen, filtered: c.filtered, cpuMicros: c.cpuMicros, cpuNsPerPkt: (c.cpuMicros * 1000) / Math.max(1, c.captured), bytes: statSync(out).size };
}

async function tcpdump(count: number, batch: number, size = 64) {
  run([XT, "load", DUT, "pass"]);
  const out = join(dir, "t.pcap");
  const p = Bun.spawn(["ip", "netns", "exec", DUT, "tcpdump", "-i", DUT, "-w", out, "-B", "65536", "-n", "udp"], { env, stdout: "ignore", stderr: "pipe" });
  const err = await waitFor(p, "listening on");
  const cpu0 = Date.now();
  const r = send(count, batch, size);
  await Bun.sleep(300);
  p.kill("SIGINT");
  await p.exited;
  run([XT, "unload", DUT]);
  void cpu0;
  const captured = Number(/(\d+) packets captured/.exec(err())?.[1] ?? 0);
  const dropped = Number(/(\d+) packets dropped by kernel/.exec(err())?.[1] ?? 0);
  return { pps: r.pps, captured, lost: count - captured, dropped };
}

const lines: string[] = [];
const log = (s: string) => { console.log(s); lines.push(s); };

run([XT, "lab", "up"]);
Bun.spawnSync([XT, "unload", DUT, "--force"], { env }); // may have nothing to unload
const N = Number(process.env.N ?? 500_000);
const load = () => run(["cat", "/proc/loadavg"]).split(" ").slice(0, 3).join(" ");
log(`\n## sampler — ${new Date().toISOString()} (kernel ${run(["uname", "-r"]).trim()}, N=${N} frames per run, load average at start ${load()})\n`);
log("2 CPUs shared with other work: the load average says how much of the machine this run had.\n");

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const only = process.env.ONLY;
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
let summaryABC = () => {};
if (!only) {
log(`(a) passed traffic (XDP_PASS into the stack), ${N * 2} 64-byte frames per run, batch 64; ${ROUNDS} rounds, the three capturers interleaved in each (so drift of the shared machine hits all alike), medians:\n`);
log("| capturer | sender rate (Mpps), median | each round | captured (sum) | lost (sum) |");
log("|---|---|---|---|---|");
const runsA: Record<string, { pps: number[]; captured: number; lost: number }> = {};
const addA = (k: string, r: { pps: number; captured: number; lost: number }) => {
  const e = (runsA[k] ??= { pps: [], captured: 0, lost: 0 });
  e.pps.push(r.pps);
  e.captured += r.captured;
  e.lost += r.lost;
};
// The order within a round rotates, so neither capturer always runs right after the other.
const orderA = ["tcpdump", "ringbuf", "perf"];
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < orderA.length; i++) {
    const k = orderA[(i + round) % orderA.length];
    addA(k, k === "tcpdump" ? await tcpdump(N * 2, 64) : await sampler(["--transport", k], N * 2, 64));
  }
}
const a: Record<string, number> = {};
for (const [k, label] of [["tcpdump", "tcpdump -w (AF_PACKET, behind XDP pass)"], ["ringbuf", "xdptool sample --transport ringbuf"], ["perf", "xdptool sample --transport perf"]]) {
  const e = runsA[k];
  a[k] = median(e.pps);
  log(`| ${label} | ${(a[k] / 1e6).toFixed(2)} | ${e.pps.map((x) => (x / 1e6).toFixed(2)).join(", ")} | ${e.captured} | ${e.lost} |`);
}
const td = { pps: a.tcpdump };
// This machine drifts between slower and faster phases that last seconds: a ratio of two runs in
// the same round is steadier than a ratio of medians taken over all rounds.
const pairRatio = (k: string) => median(runsA[k].pps.map((x, i) => x / runsA.tcpdump.pps[i]));
log(`\nPer round, xdptool / tcpdump: ringbuf ${runsA.ringbuf.pps.map((x, i) => (x / runsA.tcpdump.pps[i]).toFixed(2)).join(", ")}; perf ${runsA.perf.pps.map((x, i) => (x / runsA.tcpdump.pps[i]).toFixed(2)).join(", ")}.`);

log("\n(b) capture-and-drop (--drop-after-sample), 64-byte frames to a pcap file, 16 MiB buffer:\n");
log("| mode | batch | offered = sender rate (Mpps) | captured | lost | loss % | reader CPU ns/pkt |");
log("|---|---|---|---|---|---|---|");
const best: Record<string, number> = {};
for (const mode of ["ringbuf", "perf"]) {
  for (const batch of [1, 4, 16, 64]) {
    const s = await sampler(["--transport", mode, "--drop-after-sample", "--snaplen", "64"], N * 4, batch);
    if (s.lost === 0) best[mode] = Math.max(best[mode] ?? 0, s.pps);
    log(`| ${mode} | ${batch} | ${(s.pps / 1e6).toFixed(2)} | ${s.captured} | ${s.lost} | ${((100 * s.lost) / s.seen).toFixed(2)} | ${s.cpuNsPerPkt.toFixed(0)} |`);
  }
}
log(`\n(c) filter where? capture-and-drop, 64-byte frames none of which match 'udp port 53', ringbuf; ${ROUNDS} rounds alternating, medians:\n`);
log("| filter at | sender rate (Mpps), median | each round | filtered (sum) | lost (sum) | reader CPU µs, median |");
log("|---|---|---|---|---|---|");
const runsC: Record<string, { pps: number[]; filtered: number; lost: number; cpu: number[] }> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const at of ["kernel", "user"]) {
    const c = await sampler(["--drop-after-sample", "--filter-at", at, "udp port 53"], N * 4, 64);
    const e = (runsC[at] ??= { pps: [], filtered: 0, lost: 0, cpu: [] });
    e.pps.push(c.pps);
    e.filtered += c.filtered;
    e.lost += c.lost;
    e.cpu.push(c.cpuMicros);
  }
}
const fr: Record<string, number> = {};
for (const [at, e] of Object.entries(runsC)) {
  fr[at] = median(e.pps);
  log(`| ${at} | ${(fr[at] / 1e6).toFixed(2)} | ${e.pps.map((x) => (x / 1e6).toFixed(2)).join(", ")} | ${e.filtered} | ${e.lost} | ${median(e.cpu)} |`);
}
log(`\nRatio (c): kernel / user-space filtering sender rate = ${(fr.kernel / fr.user).toFixed(2)}.`);

summaryABC = () => {
  log(`\nHighest lossless rate seen: ${Object.entries(best).map(([m, v]) => `${m} ${(v / 1e6).toFixed(2)} Mpps`).join(", ") || "none"}.`);
  log(`Ratio (a): xdptool sample (ringbuf) / tcpdump -w sender rate = ${(a.ringbuf / td.pps).toFixed(2)} (medians), ${pairRatio("ringbuf").toFixed(2)} (median of per-round ratios); (perf) = ${(a.perf / td.pps).toFixed(2)}, ${pairRatio("perf").toFixed(2)}.`);
};
}
// (d): the kernel's count of frames XDP dropped on the DUT (veth, ethtool -S).
const xdpDrops = () => Number(/rx_queue_0_xdp_drops: (\d+)/.exec(run(["ip", "netns", "exec", DUT, "ethtool", "-S", DUT]))?.[1] ?? NaN);
async function bareDrop(count: number) {
  run(["ip", "netns", "exec", DUT, "ip", "link", "set", "dev", DUT, "xdpdrv", "obj", join(ROOT, "dist/bpf/bare_drop.bpf.o"), "sec", "xdp"]);
  const before = xdpDrops();
  const r = send(count, 64);
  const dropped = xdpDrops() - before;
  run(["ip", "netns", "exec", DUT, "ip", "link", "set", "dev", DUT, "xdpdrv", "off"]);
  return { pps: r.pps, lost: Math.max(0, count - dropped) };
}
const ND = N * 4;
// SAMPLE_ARGS="--buffer 4": more options for the captures of (d) (trying settings).
const extraD = (process.env.SAMPLE_ARGS ?? "").split(" ").filter(Boolean);
/** One capture-and-drop run; lost = the sampler's lost + frames it did not see + frames not in the file. */
async function captureDrop(kind: string) {
  const before = xdpDrops();
  const rot = join(dir, "rot");
  rmSync(rot, { recursive: true, force: true });
  mkdirSync(rot);
  const args = ["--drop-after-sample", "--snaplen", "64", ...(kind === "pcapng" ? ["--pcapng"] : []), ...(kind === "rotated" ? ["-C", "20"] : []), ...extraD];
  const out = kind === "rotated" ? join(rot, "r.pcap") : join(dir, kind === "pcapng" ? "s.pcapng" : "s.pcap");
  const s = await sampler(args, ND, 64, 64, out);
  const dropped = xdpDrops() - before;
  const files = kind === "rotated" ? readdirSync(rot).map((f) => join(rot, f)) : [out];
  const bytes = files.reduce((t, f) => t + statSync(f).size, 0);
  // 64-byte records: 80 bytes each in pcap, 132 in pcapng; plus headers (pcap 24 per file, pcapng's blocks < 512).
  const perRec = kind === "pcapng" ? 132 : 80, extra = bytes - ND * perRec;
  const inFile = extra >= 0 && extra < 512 * files.length ? ND : Math.floor(bytes / perRec);
  // Each at least 0: the lab's own stray frames (IPv6 router solicitations) may add to the counts.
  const parts = [s.lost, ND - s.seen, ND - dropped, ND - s.captured, ND - inFile].map((v) => Math.max(0, v));
  // One frame missing shows in several counts (lost, so not captured, so not in the file): the largest is the loss.
  return { pps: s.pps, lost: Math.max(...parts), parts, files: files.length, cpuNsPerPkt: s.cpuNsPerPkt };
}
log(`\n(d) capture-and-drop at 1:1 vs bare XDP_DROP: ${ND} 64-byte frames per run, batch 64 (the sender is held to the receiver's pace); ${ROUNDS} rounds, the four interleaved (order rotating). lost = the largest of the sampler's lost, frames the sampler or the kernel's xdp_drops did not count, and records missing from the file(s):\n`);
log("| run | sender rate (Mpps), median | each round | × bare drop (median of per-round ratios) | lost (sum) | of which: sampler lost / not seen / not XDP-dropped / not captured / not in file | files | reader CPU ns/pkt, median |");
log("|---|---|---|---|---|---|---|---|");
const orderD = ["bare", "pcap", "pcapng", "rotated"];
const runsD: Record<string, { pps: number[]; lost: number; parts: number[]; files: number; cpu: number[] }> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < orderD.length; i++) {
    const k = orderD[(i + round) % orderD.length];
    const r = k === "bare" ? { ...(await bareDrop(ND)), parts: [0, 0, 0, 0, 0], files: 0, cpuNsPerPkt: NaN } : await captureDrop(k);
    const e = (runsD[k] ??= { pps: [], lost: 0, parts: [0, 0, 0, 0, 0], files: 0, cpu: [] });
    r.parts.forEach((v, j) => { e.parts[j] += v; });
    e.pps.push(r.pps);
    e.lost += r.lost;
    e.files = r.files;
    e.cpu.push(r.cpuNsPerPkt);
  }
}
const ratioD: Record<string, number> = {};
for (const [k, label] of [["bare", "bare XDP_DROP (the kernel's xdp_drops)"], ["pcap", "sample -w x.pcap --drop-after-sample"], ["pcapng", "sample --pcapng -w x.pcapng --drop-after-sample"], ["rotated", "sample -w x.pcap -C 20 --drop-after-sample"]]) {
  const e = runsD[k];
  ratioD[k] = median(e.pps.map((x, i) => x / runsD.bare.pps[i]));
  log(`| ${label} | ${(median(e.pps) / 1e6).toFixed(2)} | ${e.pps.map((x) => (x / 1e6).toFixed(2)).join(", ")} | ${ratioD[k].toFixed(2)} | ${e.lost} | ${e.parts.join(" / ")} | ${e.files} | ${k === "bare" ? "-" : median(e.cpu).toFixed(0)} |`);
}
log(`\nRatio (d): capture-and-drop / bare drop = pcap ${ratioD.pcap.toFixed(2)}, pcapng ${ratioD.pcapng.toFixed(2)}, rotated (-C 20) ${ratioD.rotated.toFixed(2)} (goal: ≥ 0.5 with 0 lost).`);
log(`\nLoad average at end: ${load()}.`);
summaryABC();
if (!only) recordResults(join(ROOT, "bench/RESULTS.md"), lines.join("\n") + "\n");
run([XT, "lab", "down"]);
