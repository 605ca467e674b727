// stats-rate.bench.ts — does `xdptool stats` report the rate the sender achieves? A timing
// comparison, so it lives here and not in the tests (test/stats.test.ts checks exact counts).
// Each round: a long LIVE_FRAMES stream through the lab, `stats IF --interval 2 --json` measuring
// two seconds in its middle, and the sender's own frames/second. Reported: the ratio per round
// and its median (1.00 = the same rate; the stream's rate drifts a little within a run, so a few
// percent either way is the method, not the counters).
//   flock /tmp/xdptool-bench.lock env XDPTOOL_LAB=sr node_modules/.bin/bun bench/stats-rate.bench.ts
import { join } from "node:path";
import { spawn, spawnSync } from "bun";
import { recordResults } from "../src/bench/results.ts";
import { median } from "../src/bench/measure.ts";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const ROOT = join(import.meta.dir, "..");
const XDPTOOL = process.env.XDPTOOL ?? join(ROOT, "dist/xdptool");
const LAB = process.env.XDPTOOL_LAB ?? "sr";
const env = { ...process.env, XDPTOOL_LAB: LAB };
const run = (...args: string[]) => {
  const r = spawnSync([XDPTOOL, ...args], { env });
  if (r.exitCode !== 0) throw new Error(`xdptool ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
};

run("lab", "up");
const dut = `${LAB}-dut`;
const rounds: { stats: number; sender: number }[] = [];
try {
  run("load", dut, "drop");
  while (rounds.length < ROUNDS) {
    const stream = spawn([XDPTOOL, "lab", "traffic", "--count", "100000000", "--json"], { stdout: "pipe", env });
    await Bun.sleep(300); // inside the stream, past its start
    const s = JSON.parse(run("stats", dut, "--interval", "2", "--json")).interfaces[dut];
    const inside = stream.exitCode === null;
    const sent = JSON.parse(await new Response(stream.stdout).text());
    if (!inside || s.udp.pps === 0) continue; // the window was not inside the stream: again
    rounds.push({ stats: s.udp.pps, sender: sent.pps });
    console.error(`stats-rate: round ${rounds.length}: stats ${Math.round(s.udp.pps)} pps, sender ${Math.round(sent.pps)} pps`);
  }
} finally {
  run("lab", "down");
}

const ratios = rounds.map((r) => r.stats / r.sender);
const kernel = spawnSync(["uname", "-r"]).stdout.toString().trim();
const md = [
  `## stats rate (${new Date().toISOString()}, kernel ${kernel})`, "",
  `\`flock /tmp/xdptool-bench.lock env XDPTOOL_LAB=sr node_modules/.bin/bun bench/stats-rate.bench.ts\` — ${ROUNDS} rounds; each a 100M-frame LIVE_FRAMES stream to \`drop\`, ` +
    "`stats --interval 2` measuring inside it, against the sender's own frames/second over the whole stream.", "",
  "| round | stats pps | sender pps | ratio |", "|---|---|---|---|",
  ...rounds.map((r, i) => `| ${i + 1} | ${Math.round(r.stats)} | ${Math.round(r.sender)} | ${(r.stats / r.sender).toFixed(3)} |`),
  "", `Median ratio ${median(ratios).toFixed(3)} (range ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}).`, "",
].join("\n");
console.log(md);
if (process.env.RESULTS !== "/dev/null") recordResults(process.env.RESULTS ?? join(import.meta.dir, "RESULTS.md"), md);
