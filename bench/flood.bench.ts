// flood.bench.ts — blocklists under a flood: live Mpps on the lab veth when every frame comes from
// a different listed source, so each lookup starts from cold caches, as in a real attack.
//   Rule set (bench/flood/rules.ts): ~1M random IPv4 /32s, 84k mixed /16–/28 prefixes, 100k IPv6.
//   Traffic: LIVE_FRAMES (batch 64, lossless: the sender's rate is the receiver's) with a source
//   taken per frame by the generator (`lab traffic --src-from`'s code) from a shuffled list, in
//   order: (1) every listed /32, (2) half from the /32s, half from inside the listed prefixes.
//   Programs (bench/flood/candidates.ts, a table meant to grow): bare XDP_DROP, a plain BPF hash,
//   an LPM trie, nftables on netdev ingress, the xdptool blacklist. Each is loaded and filled once;
//   for its turn it is swapped into the DUT's XDP link. Rounds are interleaved (the order rotates
//   each round) and every figure is read against bare XDP_DROP in the same round.
// Writes its section of bench/RESULTS.md (the run it replaces goes to bench/history/). As root, one benchmark at a time on the machine:
//   flock /tmp/xdptool-bench.lock env XDPTOOL_LAB=fb node_modules/.bin/bun bench/flood.bench.ts
// ROUNDS (default 5) and RUN_SECONDS (default 0.8, the length of each measured run) tune it;
// SCALE=0.05 RESULTS=/dev/null makes a quick trial run of the harness itself.
// A/B of a change: XDPTOOL_BASE=$(bash bench/build-base.sh COMMIT) adds that build's blacklist to
// the same rounds (section "builds compared: flood"; several builds: comma-separated, named by
// XDPTOOL_BASE_NAME=a,b,…); CANDIDATES=blacklist keeps only the blacklists (and bare drop).
import { spawnSync } from "bun";
import { recordResults } from "../src/bench/results.ts";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attach } from "../src/program/attach.ts";
import { ownedLink } from "../src/program/owned.ts";
import { embeddedObject } from "../src/program/embedded.ts";
import { closeFd } from "../src/ffi/fd.ts";
import { resolveIface } from "../src/ffi/netns.ts";
import { linkUpdate } from "../src/ffi/xdp.ts";
import { labAttachGenerator, labConfig, labDown, labUp } from "../src/lab/setup.ts";
import { buildFrame } from "../src/net/packet.ts";
import { median } from "../src/bench/measure.ts";
import { sendFrames } from "../src/lab/traffic.ts";
import { candidates, type Candidate, type FloodEnv } from "./flood/candidates.ts";
import { hostSources, makeRuleSet, mixedSources, ruleFileText } from "./flood/rules.ts";

const ROUNDS = Number(process.env.ROUNDS ?? 5), RUN_SECONDS = Number(process.env.RUN_SECONDS ?? 0.8), WARM = 100_000;
const SCALE = Number(process.env.SCALE ?? 1);
// SPLIT=1: the receiver's NAPI runs in its own kernel thread on CPU 1, the generator on CPU 0, so a
// program's rate is its own cost, not its cost plus the generator's on one CPU.
const SPLIT = process.env.SPLIT === "1";
const ROOT = join(import.meta.dir, "..");
const lab = labConfig();
const log = (m: string) => console.error(`flood: ${m}`);
const started = performance.now();

const make = spawnSync(["make", "-s", "-C", join(ROOT, "bpf"), "bench"]);
if (make.exitCode !== 0) throw new Error(`make -C bpf bench: ${make.stderr.toString()}`);

const set = makeRuleSet(Math.round(1_000_000 * SCALE), Math.round(84_000 * SCALE), Math.round(100_000 * SCALE));
const dir = mkdtempSync(join(tmpdir(), "xdptool-flood-"));
const ruleFile = join(dir, "rules.txt");
writeFileSync(ruleFile, ruleFileText(set));
const env: FloodEnv = { lab, set, ruleFile, dir, xdptool: process.env.XDPTOOL ?? join(ROOT, "dist/xdptool") };
log(`rule set: ${set.hosts.length} /32 + ${set.prefixes.length} prefixes + ${set.v6.length} IPv6 in ${ruleFile}`);

labDown(lab);
labUp(lab);
const progs = new Map<Candidate, number>(), setupSeconds = new Map<Candidate, number>();
// The generator's source lists: built once and kept (loading one into the generator takes a
// while); each mix runs all its rounds before the next.
const mixes = [
  { name: "sources: every listed /32, in random order", list: hostSources(set) },
  { name: "sources: the listed IPv4 space — half the frames from the /32s, half from inside the /16–/28 prefixes", list: mixedSources(set) },
];
interface Run { mpps: number; matched: number; frames: number }
const results = mixes.map(() => new Map<Candidate, Run[]>(candidates.map((c) => [c, []])));
let link = -1;
try {
  await labAttachGenerator(lab);
  const dutName = `${lab.dut.ns}/${lab.dut.ifname}`, genName = `${lab.gen.ns}/${lab.gen.ifname}`;
  // The DUT's link: made once (with `pass`), then each candidate's program is swapped into it. The
  // blacklist's `attach` swaps itself in the same way and pins its maps beside the link.
  attach({ iface: resolveIface(dutName), image: embeddedObject("pass")!, objectName: "pass", mode: "native" });
  for (const c of candidates) {
    log(`setting up ${c.name}`);
    const t = performance.now();
    progs.set(c, await c.setup(env));
    setupSeconds.set(c, (performance.now() - t) / 1000);
  }
  link = ownedLink(resolveIface(dutName))!.fd;
  if (SPLIT) splitCpus();

  const frame = buildFrame({ src: lab.gen.ipv4, dst: lab.dut.ipv4, srcMac: lab.gen.mac, dstMac: lab.dut.mac, l4: "udp", sport: 1024, dport: 9, frameSize: 64 });
  const send = (count: number, list: (typeof mixes)[number]["list"]) => sendFrames(resolveIface(genName).ifindex, frame, count, 64, list);

  for (const [m, mix] of mixes.entries()) {
    log(mix.name);
    for (let round = 0; round < ROUNDS; round++) {
      const order = candidates.map((_, i) => candidates[(i + round) % candidates.length]);
      for (const c of order) {
        linkUpdate(link, progs.get(c)!);
        const warm = send(WARM, mix.list); // caches and TLB as the previous program left them: make them this one's
        const runs = results[m].get(c)!;
        const rate = runs.length ? median(runs.map((r) => r.mpps)) * 1e6 : warm.pps;
        const frames = Math.round(Math.min(30e6, Math.max(300e3, rate * RUN_SECONDS)));
        // Lossless by construction; a count off means the rate is not this program's: once more,
        // then stop (on this shared VM a burst of other work can overrun veth's ring).
        let before = c.counts(env), sent = send(frames, mix.list), after = c.counts(env);
        let dropped = after.dropped - before.dropped;
        if (SPLIT) { // the sender is not held back: the rate is what the receiver took in the time
          if (dropped <= 0 || dropped > frames + 100) throw new Error(`${c.name}: ${dropped} dropped of ${frames} sent`);
          runs.push({ mpps: dropped / sent.seconds / 1e6, matched: (after.matched - before.matched) / dropped, frames: dropped });
          log(`  round ${round + 1}: ${c.name}: ${(dropped / sent.seconds / 1e6).toFixed(2)} Mpps (${dropped} of ${frames} frames taken)`);
          continue;
        }
        if (dropped < frames || dropped > frames + 100) {
          log(`  round ${round + 1}: ${c.name}: ${dropped} dropped of ${frames} sent — measured again`);
          before = c.counts(env);
          sent = send(frames, mix.list);
          after = c.counts(env);
          dropped = after.dropped - before.dropped;
        }
        if (dropped < frames || dropped > frames + 100) throw new Error(`${c.name}: ${dropped} dropped of ${frames} sent`);
        runs.push({ mpps: sent.pps / 1e6, matched: (after.matched - before.matched) / frames, frames });
        log(`  round ${round + 1}: ${c.name}: ${(sent.pps / 1e6).toFixed(2)} Mpps (${frames} frames, all dropped)`);
      }
    }
  }
} finally {
  closeFd(link);
  labDown(lab); // the namespaces take the nftables table and the pins with them
  rmSync(dir, { recursive: true, force: true });
}

/** Threaded NAPI on the DUT's veth end, its thread on CPU 1; this process (the generator) on CPU 0. */
function splitCpus(): void {
  const sh = (ns: string, cmd: string) => spawnSync(["ip", "netns", "exec", ns, "sh", "-c", cmd]);
  const r = sh(lab.dut.ns, `echo 1 > /sys/class/net/${lab.dut.ifname}/threaded`);
  if (r.exitCode !== 0) throw new Error(`threaded NAPI: ${r.stderr.toString()}`);
  const ps = spawnSync(["ps", "-eo", "pid=,comm="]).stdout.toString().split("\n");
  const napi = ps.map((l) => l.trim().split(/\s+/)).filter(([, c]) => c?.startsWith(`napi/${lab.dut.ifname}-`));
  if (!napi.length) throw new Error("no NAPI thread for the DUT");
  for (const [pid] of napi) spawnSync(["taskset", "-pc", "1", pid]);
  spawnSync(["taskset", "-apc", "0", String(process.pid)]);
  log(`split: NAPI thread(s) ${napi.map(([p]) => p).join(",")} on CPU 1, generator on CPU 0`);
}

// ---- report
const f2 = (x: number) => x.toFixed(2);
const byRef = (ref: Candidate["ref"]) => candidates.find((c) => c.ref === ref);
function table(runs: Map<Candidate, Run[]>): string[] {
  const ratio = (c: Candidate, ref: Candidate | undefined) => {
    if (!ref) return "-";
    const rs = runs.get(ref)!;
    return `${f2(median(runs.get(c)!.map((r, i) => r.mpps / rs[i].mpps)))}×`;
  };
  const bare = byRef("bare")!;
  const rounds = Array.from({ length: ROUNDS }, (_, i) => `round ${i + 1}`);
  return [
    `| program | ${rounds.join(" | ")} | median Mpps | × bare drop | × nftables | × plain hash | ns/packet over bare | matched | setup |`,
    `|---|${rounds.map(() => "---|").join("")}---|---|---|---|---|---|---|`,
    ...candidates.map((c) => {
      const rs = runs.get(c)!;
      const cells = rs.map((r, i) => `${f2(r.mpps)} (${f2(r.mpps / runs.get(bare)!.at(i)!.mpps)}×)`);
      const matched = c.ref === "bare" ? "-" : `${(100 * median(rs.map((r) => r.matched))).toFixed(1)}%`;
      // What the program adds to a packet, the generator's share (bare drop's time) taken out.
      const over = c.ref === "bare" ? "-" : median(rs.map((r, i) => 1e3 / r.mpps - 1e3 / runs.get(bare)!.at(i)!.mpps)).toFixed(0);
      return `| ${c.name} | ${cells.join(" | ")} | ${f2(median(rs.map((r) => r.mpps)))} | ${ratio(c, bare)} | ${ratio(c, byRef("nftables"))} | ${ratio(c, byRef("hash"))} | ${over} | ${matched} | ${setupSeconds.get(c)!.toFixed(1)} s |`;
    }),
  ];
}
const kernel = spawnSync(["uname", "-r"]).stdout.toString().trim();
const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const frames = (m: number) => results[m].get(byRef("bare")!)!.map((r) => r.frames);
const md = [
  // An A/B run (another build beside this one) is its own section: it does not replace the full comparison.
  `\n## ${process.env.XDPTOOL_BASE ? "builds compared: flood" : "flood"} (${new Date().toISOString()}, kernel ${kernel}, load average at the end ${load})`, "",
  `\`flock /tmp/xdptool-bench.lock env XDPTOOL_LAB=fb${process.env.XDPTOOL_BASE ? ` XDPTOOL_BASE=${process.env.XDPTOOL_BASE}${process.env.CANDIDATES ? ` CANDIDATES=${process.env.CANDIDATES}` : ""}` : ""} node_modules/.bin/bun bench/flood.bench.ts\`${SPLIT ? " (SPLIT=1)" : ""} — ` +
  `rule set: ${set.hosts.length} IPv4 /32 + ${set.prefixes.length} IPv4 /16–/28 + ${set.v6.length} IPv6 (/128 and /48–/64) = ` +
  `${set.hosts.length + set.prefixes.length + set.v6.length} rules. Live: 64-byte UDP frames, LIVE_FRAMES batch 64 over the lab veth, ` +
  `a new source per frame from the generator's list; ${ROUNDS} rounds, the order rotated each round, every program run ~${RUN_SECONDS} s ` +
  `after a ${WARM / 1000}k-frame warm-up (bare drop: ${frames(0).join(", ")} frames). Each cell: Mpps (× bare XDP_DROP in the same round); ` +
  "ratio columns: median of the per-round ratios. Every frame was dropped, checked for each program (the kernel's veth xdp_drops for XDP programs; " +
  "for nftables, frames passed up by XDP that never reached IP; xdptool's own verdict counters); \"matched\": frames that matched a rule " +
  "(by the program's counter, nft's in a chain after the set's; misses are dropped too, so the stack never sets the pace). " +
  "The generator sends each list shuffled and in order (it reads it sequentially: a random read per frame would cost it a cache miss); " +
  (SPLIT
    ? "SPLIT: the receiver's NAPI runs threaded on CPU 1, the generator on CPU 0; the sender does not wait, so each rate is what the receiver " +
      "took in the run's time (the frames veth refused are not counted); \"ns/packet over bare\" takes the receive path's own share out "
    : "it shares a CPU with the receiver, so bare drop's rate includes the generator's own cost; \"ns/packet over bare\" takes it out ") +
  "(1/rate − 1/bare rate, per round, median): what each program adds to a packet.",
  ...mixes.flatMap((mix, m) => ["", `**${mix.name}** (a list of ${mix.list.n} entries)`, "", ...table(results[m])]),
  "", `Whole run ${((performance.now() - started) / 1000).toFixed(0)} s.`, "",
].join("\n");
console.log(md);
if (process.env.RESULTS !== "/dev/null") recordResults(process.env.RESULTS ?? join(import.meta.dir, "RESULTS.md"), md);
