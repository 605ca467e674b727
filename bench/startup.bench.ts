// startup.bench.ts — how fast xdptool starts, against a compiled Bun "hello world" built in the
// same run (the floor any Bun binary pays) and bpftool (a native tool), rounds interleaved.
// Commands: `--help`, `--version`, `status` (no rules anywhere: what an operator types first).
// Writes its section of bench/RESULTS.md (the run it replaces goes to bench/history/):
//   node_modules/.bin/bun bench/startup.bench.ts        (ROUNDS, default 15; RESULTS=/dev/null to try)
// Other builds in the same rounds (bench/build-base.sh makes them): XDPTOOL_BASE=BIN,BIN…, named
// by XDPTOOL_BASE_NAME=NAME,NAME… — their `--help` and `status` rows, against the same hello world.
import { spawn, spawnSync } from "bun";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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

// Every binary runs from a copy written just now, the hello world too: how the page cache holds a
// binary depends on how its pages got there, and identical bytes started 2.5-3.5 ms apart (a
// hello world 10.5 ms built an hour before, 7.8 ms as a fresh copy). The binary as it lies gets
// its own rows.
let copies = 0;
const fresh = (bin: string): string => {
  const to = join(dir, `bin${copies++}`);
  copyFileSync(bin, to);
  chmodSync(to, 0o755);
  return to;
};
const bases = (process.env.XDPTOOL_BASE ?? "").split(",").filter(Boolean);
const baseNames = (process.env.XDPTOOL_BASE_NAME ?? "").split(",");
const xdptool = fresh(XDPTOOL);
const commands: [string, string[]][] = [
  ["compiled Bun hello world", [fresh(hello)]],
  ["xdptool --help", [xdptool, "--help"]],
  ["xdptool --version", [xdptool, "--version"]],
  ["xdptool status", [xdptool, "status"]],
  ["bpftool version", ["bpftool", "version"]],
  ["xdptool --help, the binary in place (not copied)", [XDPTOOL, "--help"]],
  ["xdptool status, the binary in place (not copied)", [XDPTOOL, "status"]],
  ...bases.flatMap((b, i): [string, string[]][] => {
    const name = baseNames[i] || b;
    const copy = fresh(b);
    return [[`xdptool --help, base build (${name})`, [copy, "--help"]], [`xdptool status, base build (${name})`, [copy, "status"]]];
  }),
];
// `status` on a host without named namespaces (no labs): run in a mount namespace whose /run/netns
// is an empty tmpfs and whose /sys/fs/bpf is a bpffs of its own (empty: no other lab's pins to look
// into), entered with nsenter — the hello world too, so that the ratio carries the same nsenter on
// both sides. Needs root and util-linux; skipped otherwise.
let bare: ReturnType<typeof spawn> | null = null;
if (existsSync("/run/netns") && process.getuid?.() === 0) {
  const p = spawn(["unshare", "-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs none /run/netns && mount -t bpf bpf /sys/fs/bpf && echo ready && exec sleep 100000"], { stdout: "pipe", stderr: "ignore" });
  const { value } = await (p.stdout as ReadableStream<Uint8Array>).getReader().read();
  if (value && new TextDecoder().decode(value).includes("ready")) bare = p;
  else p.kill();
}
const NSENTER = "via nsenter, no named namespaces or pins";
if (bare) {
  const inBare = (argv: string[]): string[] => ["nsenter", "-t", String(bare!.pid), "-m", "--", ...argv];
  commands.push([`compiled Bun hello world, ${NSENTER}`, inBare(commands[0][1])], [`xdptool status, ${NSENTER}`, inBare([xdptool, "status"])]);
}
// What `status` walks here: it grows with the named namespaces and the programs on the host.
const listed = JSON.parse(spawnSync([XDPTOOL, "status", "--json"]).stdout.toString()) as { id: number | null }[];
const namespaces = existsSync("/run/netns") ? readdirSync("/run/netns").length : 0;
const programs = listed.filter((r) => r.id !== null).length;
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
bare?.kill();

const floor = median(times.get("compiled Bun hello world")!);
const bareFloor = bare ? median(times.get(`compiled Bun hello world, ${NSENTER}`)!) : 0;
const ratio = (n: string) => median(times.get(n)!) / (n.endsWith(NSENTER) ? bareFloor : floor);
const kernel = spawnSync(["uname", "-r"]).stdout.toString().trim();
const md = [
  `\n## startup (${new Date().toISOString()}, kernel ${kernel})`, "",
  `\`node_modules/.bin/bun bench/startup.bench.ts\` — wall time from spawn to exit, median of ${ROUNDS} rounds, the order rotated each round; ` +
    "the hello world is compiled by the same Bun in the same run; every binary runs from a copy written at the start of the run (the page cache's state moves a start by ~3 ms). Goals (issue 16): `--help` ≤ 1.5× and `status` ≤ 2× the hello world. " +
    `\`status\` walked ${namespaces} named network namespaces and found ${programs} XDP programs (other helpers' labs included); ` +
    `the rows "${NSENTER}" run in a mount namespace whose /run/netns is an empty tmpfs and whose /sys/fs/bpf is a fresh bpffs (a host without labs or pins), entered with nsenter, and compare with the hello world run the same way.`, "",
  "| command | median ms | × hello world |", "|---|---|---|",
  ...commands.map(([n]) => `| ${n} | ${median(times.get(n)!).toFixed(1)} | ${ratio(n).toFixed(2)}× |`), "",
  ...(bare
    ? (() => {
        // nsenter's own cost is on both sides: taken out, the status row compares with the plain hello world.
        const net = median(times.get(`xdptool status, ${NSENTER}`)!) - (bareFloor - floor);
        return [`Without named namespaces, nsenter's own ${(bareFloor - floor).toFixed(1)} ms (the two hello worlds' difference) taken out: \`status\` ${net.toFixed(1)} ms = ${(net / floor).toFixed(2)}× the hello world.`, ""];
      })()
    : []),
].join("\n");
console.log(md);
if (process.env.RESULTS !== "/dev/null") recordResults(process.env.RESULTS ?? join(import.meta.dir, "RESULTS.md"), md);
