// blacklist.bench.ts — what the blacklist costs per packet, with baselines measured in the same run.
//  1. BPF_PROG_TEST_RUN, ns/packet (the kernel's own `duration`, median of 5 runs of 1M repeats):
//     bare XDP_DROP (drop.bpf.c) vs the blacklist with 0, 10k, 1M and 4M IPv4 /32 rules (+100k
//     IPv6 /64 in the 1M set), for a frame that hits a rule (dropped) and one that misses (passed),
//     and Debian's xdp-filter with one IPv4 rule (hit and miss) when it loads.
//  2. Live on the lab: LIVE_FRAMES UDP frames from <lab>-gen to <lab>-dut (batch 64, lossless),
//     counted by each program's own counters (xdptool_stats drop / the rule's hit counter;
//     ethtool xdp_drops for xdp-filter): Mpps of bare XDP_DROP vs the blacklist dropping.
//  3. Import of 1M rules through the CLI code path (parse + build + switch), and a swap of a full
//     rule set for another (build beside the live one, switch, free the old).
// Writes its section of bench/RESULTS.md (the run it replaces goes to bench/history/).
//   XDPTOOL_LAB=hb node_modules/.bin/bun bench/blacklist.bench.ts     (root)
import { spawnSync } from "bun";
import { readFileSync, writeFileSync } from "node:fs";
import { recordResults } from "../src/bench/results.ts";
import { join } from "node:path";
import { BpfObject } from "../src/ffi/object.ts";
import { fdById } from "../src/ffi/fd.ts";
import { testRun } from "../src/ffi/prog.ts";
import { resolveIface } from "../src/ffi/netns.ts";
import { embeddedObject } from "../src/program/embedded.ts";
import { attach, detach } from "../src/program/attach.ts";
import { buildFrame } from "../src/net/packet.ts";
import { labConfig, labUp, labAttachGenerator, labDown } from "../src/lab/setup.ts";
import { sendFrames } from "../src/lab/traffic.ts";
import { BlacklistMaps, type MapName } from "../src/blacklist/maps.ts";
import { sizeMaps } from "../src/blacklist/sizing.ts";
import { parseRulesText } from "../src/blacklist/parse.ts";
import { importRules, openPinned } from "../src/blacklist/store.ts";
import { readCounters } from "../src/stats/counters.ts";
import { xdpQuery } from "../src/ffi/xdp.ts";

const lab = labConfig();
const REPEAT = 1_000_000, RUNS = 5, LIVE = Number(process.env.LIVE_FRAMES ?? 3_000_000);
// Test traffic only ever comes from the lab ranges (198.18.0.0/15); the bulk of the rules is data
// from 100.64.0.0/10, never a packet source.
const HIT_SRC = "198.18.7.5", MISS_SRC = "198.18.0.1";
const frame = (src: string) => buildFrame({ src, dst: lab.dut.ipv4, srcMac: lab.gen.mac, dstMac: lab.dut.mac, l4: "udp", sport: 1024, dport: 9, frameSize: 64 });
const hit = frame(HIT_SRC), miss = frame(MISS_SRC);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}
function nsPerPacket(fd: number, data: Uint8Array): { ns: number; retval: number } {
  const runs = Array.from({ length: RUNS }, () => testRun(fd, { data, repeat: REPEAT }));
  return { ns: median(runs.map((r) => r.durationNs)), retval: runs[0].retval };
}

/** A rules file: HIT_SRC, n - 1 IPv4 /32 from 100.64.0.0/10, and m IPv6 /64. */
function rulesText(n: number, m: number): string {
  const lines: string[] = n ? [HIT_SRC] : [];
  for (let i = 1; i < n; i++) lines.push(`${100 + (i >> 22)}.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`);
  for (let i = 0; i < m; i++) lines.push(`2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`);
  return lines.join("\n");
}

const rows: string[][] = [];
const add = (what: string, v: string, ratio: string, note = "") => rows.push([what, v, ratio, note]);

// ---- 1. TEST_RUN
const drop = BpfObject.open(embeddedObject("drop")!, "drop");
drop.load();
const dropFd = drop.progFd(drop.programs()[0]);
const bare = nsPerPacket(dropFd, hit).ns;
add("bare XDP_DROP (drop.bpf.c)", `${bare.toFixed(1)} ns`, "1.00×");

const bl = BpfObject.open(embeddedObject("blacklist")!, "blacklist");
sizeMaps(bl, 1_200_000);
bl.load();
const blFd = bl.progFd(bl.programs()[0]);
const fds = new Map(bl.maps().map((m) => [m.name, bl.mapFd(m)]));
const maps = BlacklistMaps.open((n: MapName) => fds.get(n)!);
maps.init();
const testRunResults: Record<string, number> = {};
for (const [label, n, m] of [["0", 0, 0], ["10k", 10_000, 0], ["1M + 100k IPv6", 1_000_000, 100_000]] as const) {
  if (n + m) importRules("bench", maps, parseRulesText(rulesText(n, m), "bench"), true);
  else maps.replace([]);
  const h = nsPerPacket(blFd, hit), x = nsPerPacket(blFd, miss);
  if (n && h.retval !== 1) throw new Error(`hit frame not dropped with ${label} rules`);
  if (x.retval !== 2) throw new Error(`miss frame not passed with ${label} rules`);
  testRunResults[label] = h.ns;
  if (n) add(`blacklist, ${label} rules, hit (dropped)`, `${h.ns.toFixed(1)} ns`, `${(h.ns / bare).toFixed(2)}×`);
  add(`blacklist, ${label} rules, miss (passed)`, `${x.ns.toFixed(1)} ns`, `${(x.ns / bare).toFixed(2)}×`);
}

// ---- 1a. How the cost grows past a million: 4M /32s, in an object sized for them (its maps
// take ~0.6 GiB, freed before the rest runs).
{
  const big = BpfObject.open(embeddedObject("blacklist")!, "blacklist");
  sizeMaps(big, 4_200_000);
  big.load();
  const bigFds = new Map(big.maps().map((m) => [m.name, big.mapFd(m)]));
  const bigMaps = BlacklistMaps.open((n: MapName) => bigFds.get(n)!);
  bigMaps.init();
  importRules("bench", bigMaps, parseRulesText(rulesText(4_000_000, 0), "bench"), true);
  const fd = big.progFd(big.programs()[0]);
  const h = nsPerPacket(fd, hit), x = nsPerPacket(fd, miss);
  if (h.retval !== 1 || x.retval !== 2) throw new Error("4M rules: wrong verdicts");
  testRunResults["4M"] = h.ns;
  add("blacklist, 4M rules, hit (dropped)", `${h.ns.toFixed(1)} ns`, `${(h.ns / bare).toFixed(2)}×`, `${(h.ns / testRunResults["10k"]).toFixed(2)}× the 10k-rule hit`);
  add("blacklist, 4M rules, miss (passed)", `${x.ns.toFixed(1)} ns`, `${(x.ns / bare).toFixed(2)}×`);
  bigMaps.close();
  big.close();
}

// ---- 1b. A million prefixes of one length, or /32s with /24s beside them: every IPv4 prefix
// lives in the one open-addressing table, probed at the lengths its /16 holds. Same hit frame,
// all through the command's import path; also what building and freeing each costs (the free
// runs in the background `blacklist gc` after a replace, timed here directly).
// The prefixes are dense around the frames (every 4th /31 of 198.0.0.0/10, every 4th /24 of
// 160.0.0.0/3 …), as in a real list.
const dotted = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
const slash24 = (i: number, first: number) => `${first + (i >> 14)}.${(i >> 6) & 255}.${((i & 63) << 2) | 1}.0/24`;
const layouts: [string, string, () => string][] = [
  ["1M /32 in the IPv4 table", "hit on its /32", () => rulesText(1_000_000, 0)],
  ["1M /31 in the IPv4 table", "hit on 198.18.7.4/31", () => {
    const lines = ["198.18.7.4/31"];
    for (let i = 1; i < 1_000_000; i++) lines.push(`${dotted(0xc6000000 + 4 * i + 2)}/31`);
    return lines.join("\n");
  }],
  ["1M /24 in the IPv4 table", "hit on 198.18.7.0/24", () => {
    const lines = ["198.18.7.0/24"];
    for (let i = 1; i < 1_000_000; i++) lines.push(slash24(i, 160));
    return lines.join("\n");
  }],
  ["1M /32 + 10k /24 in the IPv4 table", "hit on 198.18.7.0/24", () => {
    const lines = ["198.18.7.0/24"];
    for (let i = 1; i < 10_000; i++) lines.push(slash24(i, 198));
    for (let i = 1; i < 1_000_000; i++) lines.push(`${100 + (i >> 22)}.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`);
    return lines.join("\n");
  }],
];
for (const [what, which, text] of layouts) {
  const t0 = performance.now();
  const s = importRules("bench", maps, parseRulesText(text(), "bench"), true);
  const buildMs = performance.now() - t0;
  const h = nsPerPacket(blFd, hit), x = nsPerPacket(blFd, miss);
  if (h.retval !== 1) throw new Error(`${what}: hit frame not dropped`);
  const tf = performance.now();
  maps.clear(maps.cfg.gen ^ 1); // the replaced set (freed by the background gc in real use)
  const freeMs = performance.now() - tf;
  add(`${what}: ${which} / miss`, `${h.ns.toFixed(1)} / ${x.ns.toFixed(1)} ns`, `${(h.ns / bare).toFixed(2)}× / ${(x.ns / bare).toFixed(2)}×`,
    `import ${buildMs.toFixed(0)} ms (${s.total} rules), switch ${s.timing!.switchUs.toFixed(0)} µs, freeing the set it replaced ${freeMs.toFixed(0)} ms`);
}
maps.replace([]);
maps.clear(maps.cfg.gen ^ 1);

// ---- lab
labUp(lab);
await labAttachGenerator(lab);
const dut = () => resolveIface(`${lab.dut.ns}/${lab.dut.ifname}`);
const gen = () => resolveIface(`${lab.gen.ns}/${lab.gen.ifname}`);
const ethtool = () => {
  const out = spawnSync(["ip", "netns", "exec", lab.dut.ns, "ethtool", "-S", lab.dut.ifname]).stdout.toString();
  return Number(out.match(/rx_queue_0_xdp_drops:\s*(\d+)/)?.[1] ?? 0);
};

// xdp-filter, TEST_RUN and live, while nothing of ours is on the DUT.
let filterNote = "";
{
  try { detach(dut(), true); } catch { /* nothing attached */ }
  const load = spawnSync(["ip", "netns", "exec", lab.dut.ns, "sh", "-c",
    `mount -t bpf bpf /sys/fs/bpf && xdp-filter load ${lab.dut.ifname} -m native && xdp-filter ip ${HIT_SRC} -m src`]);
  const progId = xdpQuery(dut().ifindex).progId;
  if (load.exitCode === 0 && progId) {
    const fd = fdById("prog", progId);
    const h = nsPerPacket(fd, hit), x = nsPerPacket(fd, miss);
    add("xdp-filter (Debian, 1 IPv4 rule), hit", `${h.ns.toFixed(1)} ns`, `${(h.ns / bare).toFixed(2)}×`);
    add("xdp-filter (Debian, 1 IPv4 rule), miss", `${x.ns.toFixed(1)} ns`, `${(x.ns / bare).toFixed(2)}×`);
    testRunResults.filter = h.ns;
    const d0 = ethtool();
    testRunResults.filterMpps = median(Array.from({ length: 3 }, () => sendFrames(gen().ifindex, hit, LIVE).pps / 1e6));
    const dropped = ethtool() - d0;
    filterNote = `median of 3; ${dropped} of ${3 * LIVE} counted by ethtool xdp_drops`;
    detach(dut(), true);
  } else filterNote = `xdp-filter did not load: ${load.stderr.toString().trim().split("\n").pop()}`;
}

// ---- 2. live: bare drop, then the blacklist with 1M rules, dropping.
// The machine is shared: bare XDP_DROP is measured before and after the blacklist (3 runs
// each) and the baseline is the median of all six.
const dropRuns: number[] = [];
let dropCounted = 0;
const measureDrop = () => {
  attach({ iface: dut(), image: embeddedObject("drop")!, objectName: "drop", mode: "native", force: true });
  for (let i = 0; i < 3; i++) {
    const c0 = readCounters(lab.dut.ifname).drop.packets;
    dropRuns.push(sendFrames(gen().ifindex, hit, LIVE).pps / 1e6);
    dut();
    dropCounted += readCounters(lab.dut.ifname).drop.packets - c0;
  }
  dut();
};
measureDrop();

dut();
attach({ iface: dut(), image: embeddedObject("blacklist")!, objectName: "blacklist", mode: "native", force: true,
  configure: (obj) => sizeMaps(obj, 1_200_000) });
const pinned = openPinned(lab.dut.ifname);
pinned.init();
// ---- 3. import through the command's code path: file → parse → build → switch (into an empty
// blacklist), then a --replace over a full one (which also frees the old million).
const importRow = (label: string, n: number, m: number) => {
  const tmp = join("/tmp", `xdptool-bench-${process.pid}.txt`);
  writeFileSync(tmp, rulesText(n, m));
  const t = performance.now();
  const parsed = parseRulesText(readFileSync(tmp, "latin1"), tmp);
  const parseMs = performance.now() - t;
  const s = importRules(lab.dut.ifname, pinned, parsed, true);
  const total = performance.now() - t;
  // What `blacklist gc` does in the background after the command has returned.
  const tf = performance.now();
  pinned.clear(pinned.cfg.gen ^ 1);
  const freeMs = performance.now() - tf;
  add(`import --replace ${label}`, `${total.toFixed(0)} ms`, "",
    `parse ${parseMs.toFixed(0)} ms, build+write ${(s.timing.prepareMs + s.timing.writeMs).toFixed(0)} ms, switch ${s.timing.switchUs.toFixed(0)} µs; then, in the background, free old ${freeMs.toFixed(0)} ms`);
};
pinned.replace([]);
importRow("1M IPv4 /32 into an empty blacklist", 1_000_000, 0);
importRow("1M IPv4 + 100k IPv6 over 1M (swap)", 1_000_000, 100_000);
const ruleHits = () => {
  const r = pinned.read().find((x) => x.match.kind === "prefix" && x.match.prefix.family === 4 && x.match.prefix.addr.join(".") === HIT_SRC)!;
  return pinned.hits(r.id).packets;
};
const c0 = ruleHits();
const blMpps = median(Array.from({ length: 3 }, () => sendFrames(gen().ifindex, hit, LIVE).pps / 1e6));
const blCounted = ruleHits() - c0;
pinned.close();
dut();
measureDrop();
const dropMpps = median(dropRuns);
add("live: bare XDP_DROP", `${dropMpps.toFixed(2)} Mpps`, "1.00×", `median of 6 (3 before, 3 after); ${dropCounted} of ${6 * LIVE} counted by xdptool_stats`);
add("live: blacklist 1M + 100k rules, dropping", `${blMpps.toFixed(2)} Mpps`, `${(blMpps / dropMpps).toFixed(2)}×`, `median of 3; ${blCounted} of ${3 * LIVE} counted on the rule`);
if (testRunResults.filterMpps) add("live: xdp-filter, 1 rule, dropping", `${testRunResults.filterMpps.toFixed(2)} Mpps`, `${(testRunResults.filterMpps / dropMpps).toFixed(2)}×`, filterNote);
else if (filterNote) add("xdp-filter", "-", "-", filterNote);
detach(dut(), true);

labDown(lab);

const now = new Date().toISOString();
const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const md = [
  `\n## blacklist (${now}, load ${load})`, "",
  "`XDPTOOL_LAB=hb node_modules/.bin/bun bench/blacklist.bench.ts` — TEST_RUN: median of 5 × 1M repeats of a 64-byte UDP frame; live: LIVE_FRAMES batch 64 over the lab veth, " + `${LIVE} frames.`, "",
  "| what | per packet / rate | vs bare XDP_DROP | note |", "|---|---|---|---|",
  ...rows.map((r) => `| ${r.join(" | ")} |`), "",
].join("\n");
console.log(md);
recordResults(join(import.meta.dir, "RESULTS.md"), md);
bl.close();
drop.close();
