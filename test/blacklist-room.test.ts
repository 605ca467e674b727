// blacklist-room.test.ts — a blacklist's room, all or nothing: rules added and deleted again and
// again never use it up (a deleted rule's id comes back with a rebuild, counters kept), and rules
// that do not fit — an import, a port range — change nothing, not even the ones that would fit;
// a del of rules of which one is not there deletes none.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DUT, ethtoolStats, freshLab, json, sh, xt, xtOk } from "./helpers.ts";

const ROOM = 16; // the smallest --max-rules: every limit is reached in a few commands
const bl = (...args: string[]) => xt("blacklist", ...args, "-i", DUT);
const blOk = (...args: string[]) => xtOk("blacklist", ...args, "-i", DUT);
const rules = () => json("blacklist", "list", "-i", DUT).rules as { rule: string; packets: number }[];
const exported = () => blOk("export");
const drops = () => ethtoolStats(DUT, DUT).rx_queue_0_xdp_drops;
const bpftool = (m: string) => JSON.parse(sh(["bpftool", "-j", "map", "dump", "pinned", `/sys/fs/bpf/xdptool/${DUT}/${m}`]).stdout);
/** The live generation's part of the pinned maps, as bpftool reads them (what the program sees;
 *  the idle generation is scratch space a failed rebuild may have written). */
function pinned() {
  const c = bpftool("bl_cfg")[0].formatted.value, g = c.gen, base = g ? c.half : 1;
  const recs = bpftool("bl_recs").filter((e: any) => e.formatted.key >= base && e.formatted.key < base + c.half - 1).map((e: any) => e.formatted);
  return { cfg: [g, c.flags[g], c.next_id[g], c.t4_used[g], c.next_set], recs, ...Object.fromEntries(["l4", "mac", "v6", "x6"].map((m) => [m, bpftool(`bl_${m}_${g}`)])) };
}
const dir = mkdtempSync(join(tmpdir(), "xt-room-"));
const file = (name: string, lines: string[]) => {
  const p = join(dir, name);
  writeFileSync(p, lines.join("\n") + "\n");
  return p;
};
const hosts = (net: string, n: number) => Array.from({ length: n }, (_, i) => `${net}.${i + 1}`);

beforeAll(() => {
  freshLab();
  xtOk("blacklist", "attach", DUT, "--max-rules", String(ROOM));
});
afterAll(() => xt("lab", "down"));

test("add and del, again and again: never full while the rules fit; the kept rule keeps dropping and its counters", () => {
  blOk("flush");
  blOk("add", "198.18.7.0/24");
  xtOk("lab", "traffic", "--src", "198.18.7.5", "--count", "100");
  for (const a of hosts("198.18.60", 3 * ROOM)) {
    const add = bl("add", a);
    expect(add.stderr).toBe("");
    expect(add.code).toBe(0);
    blOk("del", a);
  }
  expect(rules()).toEqual([expect.objectContaining({ rule: "198.18.7.0/24", packets: 100 })]);
  const d0 = drops();
  xtOk("lab", "traffic", "--src", "198.18.7.5", "--count", "100");
  expect(drops() - d0).toBe(100);
  expect(rules()[0].packets).toBe(200);
  // Up to the room exactly, then one more is refused in one line, nothing changed.
  for (const a of hosts("198.18.61", ROOM - 1)) blOk("add", a);
  expect(rules().length).toBe(ROOM);
  const before = exported();
  const full = bl("add", "198.18.62.1");
  expect(full.code).toBe(1);
  expect(full.stderr.trim().split("\n")).toEqual([expect.stringMatching(/do not fit|full/)]);
  expect(exported()).toBe(before);
});

test("a re-added rule takes its new TTL and comment when the add has to rebuild", () => {
  blOk("flush");
  for (const a of hosts("198.18.60", ROOM)) {
    blOk("add", a);
    blOk("del", a);
  }
  blOk("add", "198.18.7.0/24");
  blOk("add", "198.18.60.1");
  // The ids are used up (ROOM + 2 adds): these two adds rebuild the set.
  blOk("add", "198.18.7.0/24", "--ttl", "1h", "--comment", "renewed");
  blOk("add", "198.18.8.0/24");
  expect(exported().trim().split("\n").sort()).toEqual(["198.18.60.1/32", expect.stringMatching(/^198\.18\.7\.0\/24 --ttl (3600|359\d)s --comment "renewed"$/), "198.18.8.0/24"]);
});

test("import that does not fit: exit 1 in one line, and no rule of it added (the pinned maps as they were)", () => {
  blOk("flush");
  for (const a of hosts("198.18.61", 10)) blOk("add", a);
  const before = exported(), maps = pinned();
  const r = bl("import", file("seven.txt", ["# seven new rules, one more than the room left", ...hosts("198.18.62", 7)]));
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/do not fit|full/)]);
  expect(exported()).toBe(before);
  expect(pinned()).toEqual(maps);
  // The six that fit go in, one by one.
  expect(bl("import", file("six.txt", hosts("198.18.62", 6))).code).toBe(0);
  expect(rules().length).toBe(ROOM);
});

test("add of a port range larger than the room left: nothing added", () => {
  blOk("flush");
  for (const a of hosts("198.18.61", 10)) blOk("add", a);
  const before = exported(), maps = pinned();
  const r = bl("add", "198.18.9.0/24", "port", "1000-1009/tcp");
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/do not fit|full/)]);
  expect(exported()).toBe(before);
  expect(pinned()).toEqual(maps);
});

test("del of several rules (both protocols, --any, a port list) when one is not there: exit 1, one line, none deleted", () => {
  blOk("flush");
  blOk("add", "port", "22/tcp");
  blOk("add", "198.18.7.0/24");
  blOk("add", "198.18.8.0/24", "port", "80/tcp");
  const before = exported(), maps = pinned();
  for (const [words, missing] of [
    [["port", "22"], "port 22/udp"],
    [["198.18.7.0/24", "--any"], "198.18.7.0/24 --dst"],
    [["198.18.8.0/24", "port", "80,443/tcp"], "198.18.8.0/24 port 443/tcp"],
  ] as const) {
    const r = bl("del", ...words);
    expect([r.code, r.stdout, r.stderr.trim()]).toEqual([1, "", `xdptool: no such rule: ${missing} (see xdptool blacklist list); nothing deleted`]);
  }
  expect(exported()).toBe(before);
  expect(pinned()).toEqual(maps);
  expect(bl("del", "port", "22/tcp").code).toBe(0);
});
