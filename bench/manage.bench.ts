// manage.bench.ts — running a million-rule blacklist: what an operator waits for (import, status,
// export, list, add, del, test) and how long a CPU stalls while a replaced set is freed, beside
// nftables doing the same with the same /32s (a netdev set of 1M elements), rounds interleaved.
//   Rule set: bench/flood/rules.ts (1M IPv4 /32, 84k /16–/28, 100k IPv6 = 1.184M rules).
//   Each command is the CLI a user runs: wall time, and its peak RSS (bench/progs/rusage.c).
//   Stalls: bench/progs/stallprobe.c on every CPU (SCHED_FIFO, wakes every 100 µs, notes how
//   late), in windows: nothing running (the machine's own noise), each tool replacing its whole
//   set, and freeing the old one — the longest time any CPU was unavailable.
// Writes its section of bench/RESULTS.md (the run it replaces goes to bench/history/). As root:
//   flock /tmp/xdptool-bench.lock env XDPTOOL_LAB=mb node_modules/.bin/bun bench/manage.bench.ts
// ROUNDS (default 3); SCALE=0.05 RESULTS=/dev/null for a quick trial of the harness.
import { spawn, spawnSync } from "bun";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { recordResults } from "../src/bench/results.ts";
import { median } from "../src/bench/measure.ts";
import { labConfig, labDown, labUp } from "../src/lab/setup.ts";
import { makeRuleSet, ruleFileText } from "./flood/rules.ts";

const ROUNDS = Number(process.env.ROUNDS ?? 3), SCALE = Number(process.env.SCALE ?? 1);
const ROOT = join(import.meta.dir, "..");
const XDPTOOL = process.env.XDPTOOL ?? join(ROOT, "dist/xdptool");
const lab = labConfig(), DUT = lab.dut.ifname;
const log = (m: string) => console.error(`manage: ${m}`);
const dir = mkdtempSync(join(tmpdir(), "xdptool-manage-"));
const started = performance.now();

// The probe and the peak-memory wrapper, built here (plain C, not BPF objects).
const probe = join(dir, "stallprobe"), rusage = join(dir, "rusage"), rssFile = join(dir, "rss");
for (const [out, src] of [[probe, "stallprobe.c"], [rusage, "rusage.c"]]) {
  const cc = spawnSync(["cc", "-O2", "-o", out, join(import.meta.dir, "progs", src)]);
  if (cc.exitCode !== 0) throw new Error(`cc ${src}: ${cc.stderr}`);
}

const set = makeRuleSet(Math.round(1_000_000 * SCALE), Math.round(84_000 * SCALE), Math.round(100_000 * SCALE));
const ruleFile = join(dir, "rules.txt");
writeFileSync(ruleFile, ruleFileText(set));
const nRules = set.hosts.length + set.prefixes.length + set.v6.length;
// nftables: the same /32s in a netdev set, reloaded as one transaction (the usual idiom:
// declare, delete, declare again — atomic, and the old set is freed by the kernel).
const nftFile = join(dir, "set.nft"), dotted = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
writeFileSync(nftFile, `table netdev xmanage\ndelete table netdev xmanage\ntable netdev xmanage {\n  set bl { type ipv4_addr; elements = { ${Array.from(set.hosts, dotted).join(", ")} } }\n}\n`);
log(`${nRules} rules in ${ruleFile}; nftables: ${set.hosts.length} /32s in ${nftFile}`);

interface Ran { s: number; rssMB: number }
function run(what: string, argv: string[], out?: string): Ran {
  const t = performance.now();
  const r = spawnSync([rusage, rssFile, ...argv], { stdout: out ? Bun.file(out) : "pipe", stderr: "pipe" });
  const s = (performance.now() - t) / 1000;
  if (r.exitCode !== 0) throw new Error(`${what}: ${argv.join(" ")}: ${r.stderr.toString().trim()}`);
  return { s, rssMB: Number(readFileSync(rssFile, "utf8")) / 1024 };
}
const xt = (...a: string[]) => [XDPTOOL, ...a];
const nft = (...a: string[]) => ["ip", "netns", "exec", lab.dut.ns, "nft", ...a];

/** Until import's background `blacklist gc` (freeing the replaced set) is done. */
async function gcDone(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (spawnSync(["pgrep", "-f", `blacklist gc -i ${DUT} `]).exitCode !== 0) return;
    await Bun.sleep(50);
  }
  throw new Error("the background gc did not finish in 30 s");
}

interface Stall { maxUs: number; p999Us: number; over1ms: number }
/** A probe on every CPU; window() closes a window (the worst any CPU saw in it) and opens the next. */
async function probes() {
  const ps = cpus().map((_, cpu) => spawn([probe, String(cpu)], { stdout: "pipe", stderr: "inherit" }));
  const lines = ps.map((p) => {
    const reader = p.stdout.getReader(), queue: string[] = [];
    let text = "";
    return async () => {
      while (!queue.length) {
        const { value, done } = await reader.read();
        if (done) throw new Error("stallprobe ended early");
        text += new TextDecoder().decode(value);
        const parts = text.split("\n");
        text = parts.pop()!;
        queue.push(...parts);
      }
      return queue.shift()!;
    };
  });
  for (const next of lines) if ((await next()) !== "ready") throw new Error("stallprobe did not start");
  const collect = async (): Promise<Stall> => {
    const res = await Promise.all(lines.map(async (next) => JSON.parse(await next())));
    return { maxUs: Math.max(...res.map((r) => r.maxUs)), p999Us: Math.max(...res.map((r) => r.p999Us)), over1ms: res.reduce((a, r) => a + r.over1ms, 0) };
  };
  return {
    async window(): Promise<Stall> {
      for (const p of ps) p.kill("SIGUSR1");
      return collect();
    },
    async stop(): Promise<Stall> {
      for (const p of ps) p.kill("SIGTERM");
      const last = await collect();
      await Promise.all(ps.map((p) => p.exited));
      return last;
    },
  };
}

labDown(lab);
labUp(lab);
run("attach", xt("blacklist", "attach", DUT, "--max-rules", String(Math.max(65536, Math.ceil(nRules * 1.02)))));
run("first import", xt("blacklist", "import", ruleFile, "--replace", "-i", DUT));
await gcDone();
run("first nft load", nft("-f", nftFile));

type Row = { op: string; goal: string; xdptool: Ran[]; nft: Ran[] };
const rows: Row[] = [
  { op: "import --replace (the whole set) / nft -f (reload the set)", goal: "≤ 1.0 s", xdptool: [], nft: [] },
  { op: "blacklist status", goal: "≤ 0.3 s", xdptool: [], nft: [] },
  { op: "export / nft list set", goal: "≤ 1.5 s, ≤ 200 MB", xdptool: [], nft: [] },
  { op: "list --top 10", goal: "", xdptool: [], nft: [] },
  { op: "list --json (every rule)", goal: "", xdptool: [], nft: [] },
  { op: "add one rule / nft add element", goal: "≤ 0.1 s", xdptool: [], nft: [] },
  { op: "del one rule / nft delete element", goal: "≤ 0.1 s", xdptool: [], nft: [] },
  { op: "blacklist test ADDR", goal: "", xdptool: [], nft: [] },
];
const stallRows: { what: string; runs: Stall[] }[] = [
  { what: "nothing running (the machine's own noise)", runs: [] },
  { what: "xdptool: import --replace (build the new set, switch)", runs: [] },
  { what: "xdptool: freeing the replaced set (the background gc)", runs: [] },
  { what: "nftables: nft -f reloading the set", runs: [] },
  { what: "nftables: the second after nft -f (the kernel frees the old set)", runs: [] },
];
const exportFile = join(dir, "export.txt");
const xdptoolRound = async () => {
  rows[0].xdptool.push(run("import", xt("blacklist", "import", ruleFile, "--replace", "-i", DUT)));
  await gcDone();
  rows[1].xdptool.push(run("status", xt("blacklist", "status", "-i", DUT)));
  rows[2].xdptool.push(run("export", xt("blacklist", "export", "-i", DUT), exportFile));
  rows[3].xdptool.push(run("list --top", xt("blacklist", "list", "-i", DUT, "--top", "10")));
  rows[4].xdptool.push(run("list --json", xt("blacklist", "list", "-i", DUT, "--json"), exportFile));
  rows[5].xdptool.push(run("add", xt("blacklist", "add", "203.0.113.7", "-i", DUT)));
  rows[6].xdptool.push(run("del", xt("blacklist", "del", "203.0.113.7", "-i", DUT)));
  rows[7].xdptool.push(run("test", xt("blacklist", "test", dotted(set.hosts[0]), "-i", DUT)));
};
const nftRound = async () => {
  rows[0].nft.push(run("nft -f", nft("-f", nftFile)));
  rows[2].nft.push(run("nft list set", nft("list", "set", "netdev", "xmanage", "bl"), exportFile));
  rows[5].nft.push(run("nft add element", nft("add", "element", "netdev", "xmanage", "bl", "{ 203.0.113.7 }")));
  rows[6].nft.push(run("nft delete element", nft("delete", "element", "netdev", "xmanage", "bl", "{ 203.0.113.7 }")));
};
const stallRound = async () => {
  await Bun.sleep(5000); // what came before settles (nftables frees a replaced set for seconds after)
  const p = await probes();
  await Bun.sleep(1000);
  stallRows[0].runs.push(await p.window());
  run("import", xt("blacklist", "import", ruleFile, "--replace", "-i", DUT));
  stallRows[1].runs.push(await p.window());
  await gcDone();
  stallRows[2].runs.push(await p.window());
  run("nft -f", nft("-f", nftFile));
  stallRows[3].runs.push(await p.window());
  await Bun.sleep(1000);
  stallRows[4].runs.push(await p.stop());
};
for (let round = 0; round < ROUNDS; round++) {
  log(`round ${round + 1} of ${ROUNDS}`);
  const order = [xdptoolRound, nftRound, stallRound];
  for (let k = 0; k < order.length; k++) await order[(k + round) % order.length]();
}
spawnSync(nft("delete", "table", "netdev", "xmanage"));
labDown(lab);
rmSync(dir, { recursive: true, force: true });

const s = (xs: Ran[]) => (xs.length ? `${median(xs.map((x) => x.s)).toFixed(2)} s, ${Math.max(...xs.map((x) => x.rssMB)).toFixed(0)} MB` : "-");
const ratio = (r: Row) => (r.xdptool.length && r.nft.length ? `${(median(r.nft.map((x) => x.s)) / median(r.xdptool.map((x) => x.s))).toFixed(1)}×` : "-");
const kernel = spawnSync(["uname", "-r"]).stdout.toString().trim();
const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const md = [
  `\n## manage (${new Date().toISOString()}, kernel ${kernel}, ${cpus().length} CPUs, load average at the end ${load})`, "",
  `\`flock /tmp/xdptool-bench.lock env XDPTOOL_LAB=${lab.name} node_modules/.bin/bun bench/manage.bench.ts\` — ${nRules} rules (bench/flood/rules.ts) in the xdptool blacklist; ` +
    `nftables holds the ${set.hosts.length} /32s in a netdev set. Each cell: median wall time of ${ROUNDS} rounds (the order of the tools rotated each round) and the largest max RSS, ` +
    "of the command as a user runs it (process start to exit). \"nft ÷ xdptool\": how many times longer nftables took for the same job.", "",
  "| operation | xdptool | nftables | nft ÷ xdptool | goal (issue 12) |", "|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.op} | ${s(r.xdptool)} | ${s(r.nft)} | ${ratio(r)} | ${r.goal} |`), "",
  "Stalls: bench/progs/stallprobe.c on every CPU at SCHED_FIFO 90, waking every 100 µs; a late wake-up is time the CPU was not available to the highest-priority task " +
    "(kernel code that does not reschedule, softirqs, interrupts). One probe run per round, cut into windows: 1 s of nothing, the import, the background free, nft -f, the second after it. " +
    "Per round: the worst wake-up of any CPU in the window, in µs; p99.9 (µs) and wake-ups over 1 ms over all rounds.", "",
  `| while | ${Array.from({ length: ROUNDS }, (_, i) => `round ${i + 1}`).join(" | ")} | worst | p99.9 | over 1 ms |`, `|---|${"---|".repeat(ROUNDS + 3)}`,
  ...stallRows.map((r) => `| ${r.what} | ${r.runs.map((x) => x.maxUs.toFixed(0)).join(" | ")} | ${Math.max(...r.runs.map((x) => x.maxUs)).toFixed(0)} | ${Math.max(...r.runs.map((x) => x.p999Us))} | ${r.runs.reduce((a, x) => a + x.over1ms, 0)} |`), "",
  `Whole run ${((performance.now() - started) / 1000).toFixed(0)} s.`, "",
].join("\n");
console.log(md);
if (process.env.RESULTS !== "/dev/null") recordResults(process.env.RESULTS ?? join(import.meta.dir, "RESULTS.md"), md);
