// startup.bench.ts — how fast xdptool starts, against a compiled Bun "hello world" built in the
// same run (the floor any Bun binary pays) and bpftool (a native tool), rounds interleaved.
// Commands: `--help`, `--version`, `status` (no rules anywhere: what an operator types first).
// Writes its section of bench/RESULTS.md (the run it replaces goes to bench/history/):
//   node_modules/.bin/bun bench/startup.bench.ts        (ROUNDS, default 15; RESULTS=/dev/null to try)
import { spawnSync } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordResults } from "../src/bench/results.ts";
import { median } from "../src/bench/measure.ts";

const ROUNDS = Number(process.env.ROUNDS ?? 15);
const ROOT = join(import.meta.dir, "..");
const XDPTOOL = process.env.XDPTOOL ?? join(ROOT, "dist/xdptool");
const dir = mkdtempSync(join(tmpdir(), "xdptool-startup-"));
writeFileSync(join(dir, "hello.ts"), 'console.log("hello");\n');
const hello = join(dir, "hello");
const built = spawnSync([process.execPath, "build", "--compile", join(dir, "hello.ts"), "--outfile", hello]);
if (built.exitCode !== 0) throw new Error(`bun build hello: ${built.stderr}`);

const commands: [string, string[]][] = [
  ["compiled Bun hello world", [hello]],
  ["xdptool --help", [XDPTOOL, "--help"]],
  ["xdptool --version", [XDPTOOL, "--version"]],
  ["xdptool status", [XDPTOOL, "status"]],
  ["bpftool version", ["bpftool", "version"]],
];
const times = new Map<string, number[]>(commands.map(([n]) => [n, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < commands.length; k++) {
    const [name, argv] = commands[(k + r) % commands.length];
    const t = performance.now();
    const p = spawnSync(argv, { stdout: "ignore", stderr: "ignore" });
    const ms = performance.now() - t;
    if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${p.exitCode}`);
    times.get(name)!.push(ms);
  }
}
rmSync(dir, { recursive: true, force: true });

const floor = median(times.get("compiled Bun hello world")!);
const kernel = spawnSync(["uname", "-r"]).stdout.toString().trim();
const md = [
  `\n## startup (${new Date().toISOString()}, kernel ${kernel})`, "",
  `\`node_modules/.bin/bun bench/startup.bench.ts\` — wall time from spawn to exit, median of ${ROUNDS} rounds, the order rotated each round; ` +
    "the hello world is compiled by the same Bun in the same run. Goals (issue 16): `--help` ≤ 1.5× and `status` ≤ 2× the hello world.", "",
  "| command | median ms | × hello world |", "|---|---|---|",
  ...commands.map(([n]) => `| ${n} | ${median(times.get(n)!).toFixed(1)} | ${(median(times.get(n)!) / floor).toFixed(2)}× |`), "",
].join("\n");
console.log(md);
if (process.env.RESULTS !== "/dev/null") recordResults(process.env.RESULTS ?? join(import.meta.dir, "RESULTS.md"), md);
