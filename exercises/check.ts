// check.ts — `bash exercises/check.sh NAME [--solution] [--live]`: compile the exercise's program,
// run its frames through `xdptool run --json`, compare with frames.ts; with --live, then load it
// on the lab and judge it on real traffic (exercises that say what live shows: frames.ts `live`).
// Exit 0: the program does the task; 1: it does not (first difference, and a hint pointing at the
// chapter that explains it); 2: usage (no such exercise).
import { spawnSync } from "bun";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { arch } from "node:os";
import { join } from "node:path";
import { writePcapFile } from "../src/sampler/pcap-file.ts";
import type { Exercise } from "./lib.ts";
import { judgeLive, liveLab } from "./live.ts";

const HERE = import.meta.dir, ROOT = join(HERE, "..");
const args = process.argv.slice(2);
const solution = args.includes("--solution");
const name = args.find((a) => !a.startsWith("-"));
const all = readdirSync(HERE).filter((d) => /^\d\d-/.test(d)).sort();

function fail(msg: string, code = 1): never {
  console.error(msg);
  process.exit(code);
}

if (!name) fail(`usage: bash exercises/check.sh NAME [--solution] [--live]\nexercises: ${all.join(", ")}`, 2);
const dirName = all.find((d) => d === name || d.slice(0, 2) === name || d.slice(3) === name);
if (!dirName) fail(`no exercise "${name}"; exercises: ${all.join(", ")}`, 2);
const dir = join(HERE, dirName);
const ex: Exercise = (await import(join(dir, "frames.ts"))).default;
const src = join(dir, solution ? "solution" : "", ex.source);
const build = join(dir, ".build");
mkdirSync(build, { recursive: true });
const tag = solution ? "solution" : "yours";
const obj = join(build, `${tag}.o`);
const rel = (p: string) => p.replace(`${ROOT}/`, "");

// The same flags as bpf/Makefile: BPF bytecode with BTF (-g), so `map dump` shows typed values.
const cflags = ["-g", "-O2", "-target", "bpf", "-Wall", "-I", join(ROOT, "libbpf/out/include"), "-I", `/usr/include/${arch() === "arm64" ? "aarch64" : "x86_64"}-linux-gnu`];
const cc = spawnSync(["clang", ...cflags, "-c", src, "-o", obj]);
if (cc.exitCode !== 0) fail(`${rel(src)} does not compile:\n${cc.stderr.toString().trim()}\n\nhint: the first error above is the one to fix.\nread: ${ex.read}`);

const pcap = join(build, "frames.pcap");
await writePcapFile(pcap, ex.frames.map((f) => f.frame));
const runArgs = [obj, "-r", pcap];
for (const m of ex.maps ?? []) {
  if (m.seed) {
    const seed = join(build, `${m.name}.json`);
    writeFileSync(seed, JSON.stringify(m.seed, null, 1));
    runArgs.push("--map", `${m.name}=${seed}`);
  } else runArgs.push("--map", m.name);
}
for (const r of ex.rings ?? []) runArgs.push("--map", r);
const xdptool = process.env.XDPTOOL ?? (existsSync(join(ROOT, "dist/xdptool")) ? join(ROOT, "dist/xdptool") : "xdptool");
const shown = `${rel(xdptool)} run ${runArgs.map(rel).join(" ")}`;
const run = spawnSync([xdptool, "run", ...runArgs, "--json"]);
const err = run.stderr.toString().trim();
if (run.exitCode !== 0) {
  const verifier = /verifier:/.test(err);
  fail(`${rel(src)}: xdptool run failed:\n  ${err}\n${verifier ? verifierWhere() : ""}\nhint: ${verifier
    ? `the verifier rejected the program. Its whole log: ${shown} --verbose — read it from the bottom up: the last lines name the instruction and the register it could not prove safe. docs/02-verifier.md explains the rules and how to read the log.`
    : "the message above says what went wrong."}`);
}

/** The source line the verifier stopped at, and why (from the log --verbose prints). */
function verifierWhere(): string {
  const log = spawnSync([xdptool, "run", ...runArgs, "--verbose"]).stderr.toString().split("\n");
  const end = log.findIndex((l) => /^processed \d+ insns/.test(l));
  if (end < 0) return "";
  const at = log.slice(0, end).findLastIndex((l) => /^; .* @ \S+:[1-9]\d*$/.test(l));
  if (at < 0) return "";
  const [, code, file, line] = /^; (.*) @ (\S+):(\d+)$/.exec(log[at])!;
  return `  the verifier stopped at ${file}:${line}: ${code.trim()}\n  because: ${log.slice(at + 1, end).filter((l) => !/^\d+: |^;/.test(l)).join(" / ")}\n`;
}
const lines = run.stdout.toString().trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
const frames = lines.filter((l) => "frame" in l), maps = lines.filter((l) => "map" in l);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

for (const [i, f] of ex.frames.entries()) {
  const got = frames[i];
  const wantOut = hex(f.out ?? f.frame);
  let diff = "";
  if (got.verdict !== f.verdict) diff = `the program returned XDP_${got.verdict}, the task wants XDP_${f.verdict}`;
  else if (f.verdict !== "DROP" && got.data !== wantOut) diff = `verdict XDP_${got.verdict} is right, but the frame it left differs${firstByte(got.data, wantOut)}\n  got:  ${got.summary}\n  want: ${f.out ? "the frame in frames.ts" : "the frame unchanged"}`;
  for (const ring of ex.rings ?? []) {
    const want = f.records?.[ring] ?? [], have: string[] = got.records?.[ring] ?? [];
    if (!diff && JSON.stringify(want) !== JSON.stringify(have)) {
      diff = `verdict XDP_${got.verdict} is right, but ring buffer ${ring} got ${have.length ? have.map((h) => `[${h}]`).join(" ") : "no record"}, the task wants ${want.length ? want.map((h) => `[${h}]`).join(" ") : "no record"}${have.length === 1 && want.length === 1 ? firstByte(have[0], want[0]).replace("it is", "the record is") : ""}`;
    }
  }
  if (diff) {
    fail(`✗ ${dirName} (${tag}): frame ${i + 1} (${f.what}): ${diff}\n\nhint: ${f.hint ?? ex.hint}\nread: ${ex.read}\nsee every frame: ${shown}`);
  }
}

function firstByte(got: string, want: string): string {
  if (got.length !== want.length) return ` (it is ${got.length / 2} bytes, the task wants ${want.length / 2})`;
  for (let i = 0; i < got.length; i += 2) if (got.slice(i, i + 2) !== want.slice(i, i + 2)) return ` from byte ${i / 2} on`;
  return "";
}

const zero = (v: unknown): boolean => (typeof v === "number" ? v === 0 : typeof v === "string" ? /^(0|0x0+|[0 ]+|0\.0\.0\.0|::)$/.test(v) : Array.isArray(v) ? v.every(zero) : v !== null && typeof v === "object" ? Object.values(v).every(zero) : false);
const canon = (e: { key: unknown; value: unknown }) => JSON.stringify([e.key, e.value]);
for (const m of ex.maps ?? []) {
  if (!m.want) continue;
  const got = ((maps.find((x) => x.map === m.name)?.entries ?? []) as { key: unknown; value: unknown }[]).filter((e) => !zero(e.value));
  const gotSet = new Set(got.map(canon)), wantSet = new Set(m.want.map(canon));
  const missing = m.want.find((e) => !gotSet.has(canon(e)));
  const extra = got.find((e) => !wantSet.has(canon(e)));
  if (missing || extra) {
    const show = (e: { key: unknown; value: unknown }) => `key ${JSON.stringify(e.key)} value ${JSON.stringify(e.value)}`;
    const actual = got.find((e) => missing && JSON.stringify(e.key) === JSON.stringify(missing.key));
    const what = missing ? `the task wants ${show(missing)}, the map has ${actual ? `value ${JSON.stringify(actual.value)}` : "no such key (or 0)"}` : `the map has ${show(extra!)}, which the task does not want`;
    fail(`✗ ${dirName} (${tag}): every verdict is right, but map ${m.name} after the ${ex.frames.length} frames: ${what}\n\nhint: ${m.hint ?? ex.hint}\nread: ${ex.read}\nsee the map: ${shown}`);
  }
}
console.log(`✓ ${dirName} (${tag}): all ${ex.frames.length} frames${ex.maps?.some((m) => m.want) ? " and maps" : ""} as the task wants`);

// --live: the same program on the lab's DUT end, with real traffic (the lab is brought up if needed).
if (args.includes("--live") && ex.live) {
  const lab = liveLab(xdptool, process.env.XDPTOOL_LAB ?? "xl");
  let wrong: string | null;
  try {
    lab.xdptool("lab", "up");
    lab.xdptool("load", lab.dut, obj, "--force");
    wrong = judgeLive(ex.live, lab);
  } catch (e) {
    wrong = (e as Error).message;
  } finally {
    spawnSync([xdptool, "unload", lab.dut], { env: { ...process.env, XDPTOOL_LAB: process.env.XDPTOOL_LAB ?? "xl" } });
  }
  if (wrong) fail(`✗ ${dirName} (${tag}) live on ${lab.dut}: ${ex.live.says}: ${wrong}\n\nhint: ${ex.hint}\nread: ${ex.read}`);
  console.log(`✓ ${dirName} (${tag}) live on ${lab.dut}: ${ex.live.says}`);
}
