// blacklist-host4.test.ts — bl_host4 (issue 12, the mixed flood): two bits per /24 telling the
// program whether the /24 holds a /32 or a /25–/31 prefix, so a source inside a prefix skips the
// probes that cannot match. bpftool reads the bits xdptool wrote; the kernel's decision follows
// them (a rule's counters say which rule decided); the bits are trusted only while bl_host4's
// stamp matches bl_cfg, so pins from an older xdptool, or rules changed by one, never lose a /32.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DUT, freshLab, json, sh, xt, xtOk } from "./helpers.ts";

const PIN = `/sys/fs/bpf/xdptool/${DUT}`;
const WORDS = 1 << 19; // BL_HOST4_WORDS: u64 words of bits per generation
const blOk = (...args: string[]) => xtOk("blacklist", ...args, "-i", DUT);
const hex = (b: Buffer) => [...b].map((x) => `0x${x.toString(16).padStart(2, "0")}`);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};

function lookup(map: string, key: number): Buffer {
  const r = sh(["bpftool", "-j", "map", "lookup", "pinned", `${PIN}/${map}`, "key", ...hex(u32(key))]);
  expect(r.code).toBe(0);
  return Buffer.from(JSON.parse(r.stdout).value.map((h: string) => parseInt(h, 16)));
}

function update(map: string, key: number, value: Buffer): void {
  expect(sh(["bpftool", "map", "update", "pinned", `${PIN}/${map}`, "key", ...hex(u32(key)), "value", ...hex(value)]).code).toBe(0);
}

/** bl_cfg as bpftool reads it (struct bl_cfg: gen 0, next_id 20, t4_used 36). */
function cfg() {
  const v = lookup("bl_cfg", 0);
  const gen = v.readUInt32LE(0);
  return { v, gen, nextId: v.readUInt32LE(20 + 4 * gen), t4Used: v.readUInt32LE(36 + 4 * gen) };
}

/** The /24 of a dotted address, most significant octet first. */
const slash24 = (addr: string) => addr.split(".").slice(0, 3).reduce((a, o) => a * 256 + Number(o), 0);
/** The live generation's two bits for the /24 of `addr`: 1 = a /32 there, 2 = a /25-/31 there. */
function bits(addr: string): number {
  const a24 = slash24(addr), w = lookup("bl_host4", cfg().gen * WORDS + Math.floor(a24 / 32));
  return Number((w.readBigUInt64LE(0) >> BigInt((a24 % 32) * 2)) & 3n);
}
/** Whether the live generation's stamp vouches for its bits (BL_HOST4_STAMP). */
function trusted(): boolean {
  const c = cfg(), stamp = lookup("bl_host4", 2 * WORDS + c.gen).readBigUInt64LE(0);
  return stamp === ((BigInt((c.t4Used | 0x80000000) >>> 0) << 32n) | BigInt(c.nextId));
}
/** Packets each rule decided, by `list --json`. */
const hits = (): Record<string, number> => Object.fromEntries(json("blacklist", "list", "-i", DUT).rules.map((r: any) => [r.rule, r.packets]));
const send = (src: string, count = 50) => xtOk("lab", "traffic", "--src", src, "--count", String(count));

const dir = mkdtempSync(join(tmpdir(), "xt-host4-"));
const RULES = ["198.18.7.9", "198.18.7.0/24", "198.18.8.32/27", "198.18.9.0/24", "198.18.10.0/23"];

beforeAll(() => {
  freshLab();
  xtOk("blacklist", "attach", DUT, "--max-rules", "32768");
});
afterAll(() => xt("lab", "down"));

for (const how of ["import --replace", "add, one at a time"]) {
  test(`${how}: a /32 marks its /24 (1), a /25-/31 prefix its /24 (2), a /24 or shorter nothing; the stamp vouches`, () => {
    blOk("flush");
    if (how === "import --replace") {
      const f = join(dir, "rules.txt");
      writeFileSync(f, RULES.join("\n") + "\n");
      blOk("import", "--replace", f);
    } else for (const r of RULES) blOk("add", r);
    expect([bits("198.18.7.0"), bits("198.18.8.0"), bits("198.18.9.0"), bits("198.18.10.0"), bits("198.18.11.0"), bits("198.18.12.0")]).toEqual([1, 2, 0, 0, 0, 0]);
    expect(trusted()).toBe(true);
    // Each source is decided by its most specific rule.
    send("198.18.7.9", 40);
    send("198.18.7.10", 30);
    send("198.18.8.40", 20);
    send("198.18.8.10", 10); // outside the /27: passes
    send("198.18.11.7", 5);
    expect(hits()).toEqual({ "198.18.7.9/32": 40, "198.18.7.0/24": 30, "198.18.8.32/27": 20, "198.18.9.0/24": 0, "198.18.10.0/23": 5 });
  });
}

test("the program follows the bits while the stamp vouches, and probes as before once the rules change behind its back", () => {
  blOk("flush");
  blOk("add", "198.18.7.0/24");
  blOk("add", "198.18.7.9");
  expect(trusted()).toBe(true);
  send("198.18.7.9", 10);
  expect(hits()["198.18.7.9/32"]).toBe(10);
  // A writer that knows no bits (an older xdptool): the /32's bit is gone, the /24 decides —
  // proof that the program skips the /32 probe on the bit's word (the /24 still drops).
  const a24 = slash24("198.18.7.9"), key = cfg().gen * WORDS + Math.floor(a24 / 32);
  update("bl_host4", key, Buffer.alloc(8));
  send("198.18.7.9", 10);
  expect(hits()).toEqual({ "198.18.7.0/24": 10, "198.18.7.9/32": 10 });
  // The same writer adds a rule (next_id moves, as an older xdptool's add moves it): the stamp no
  // longer matches, the bits are not trusted, the /32 is probed and decides again.
  const c = cfg();
  c.v.writeUInt32LE(c.nextId + 1, 20 + 4 * c.gen);
  update("bl_cfg", 0, c.v);
  expect(trusted()).toBe(false);
  send("198.18.7.9", 10);
  expect(hits()).toEqual({ "198.18.7.0/24": 10, "198.18.7.9/32": 20 });
  // Our own add keeps a stale stamp stale; a rebuild vouches again.
  blOk("add", "198.18.12.1");
  expect(trusted()).toBe(false);
  const f = join(dir, "again.txt");
  writeFileSync(f, "198.18.7.0/24\n198.18.7.9\n");
  blOk("import", "--replace", f);
  expect(trusted()).toBe(true);
  send("198.18.7.9", 10);
  expect(hits()).toEqual({ "198.18.7.0/24": 0, "198.18.7.9/32": 10 });
});

test("pins from before bl_host4: a clear error, then attach adds it with the rules kept, and every /32 still drops", () => {
  blOk("flush");
  blOk("add", "198.18.7.0/24");
  blOk("add", "198.18.7.9");
  expect(sh(["rm", `${PIN}/bl_host4`]).code).toBe(0);
  const r = xt("blacklist", "list", "-i", DUT);
  expect([r.code, r.stderr.trim()]).toEqual([1, `xdptool: ${DUT}: the blacklist was attached by an older xdptool (no bl_host4 map of the /24s holding listed hosts); attach it again to upgrade, rules kept: xdptool blacklist attach ${DUT}`]);
  xtOk("blacklist", "attach", DUT);
  // A new, empty bl_host4 (stamp 0): not trusted, so the /32 is probed as before.
  expect([bits("198.18.7.0"), trusted()]).toEqual([0, false]);
  send("198.18.7.9", 10);
  expect(hits()).toEqual({ "198.18.7.0/24": 0, "198.18.7.9/32": 10 });
  // The next rebuild (here a merge import's) marks the bits and vouches.
  const f = join(dir, "one.txt");
  writeFileSync(f, "198.18.7.9\n198.18.7.0/24\n");
  blOk("import", "--replace", f);
  expect([bits("198.18.7.0"), trusted()]).toEqual([1, true]);
});
