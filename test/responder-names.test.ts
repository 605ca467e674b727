// The --qname table (resp_name_table: open addressing in an array, two halves) judged query by
// query through BPF_PROG_TEST_RUN: the most names a responder holds, every one found and nothing
// beside them; names of every length across the hash's 8-byte words, and the characters next to
// A–Z, against a reference; a new configuration switching halves; too many names refused.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { DUT, freshLab, json, xt } from "./helpers.ts";
import { buildFrame, dnsQuery } from "../src/net/packet.ts";
import { fdById, closeFd } from "../src/ffi/fd.ts";
import { testRun } from "../src/ffi/prog.ts";
import { BpfMap } from "../src/ffi/map.ts";
import { RESP_LAYOUT } from "../src/responder/maps.ts";
import { MAX_QNAMES } from "../src/responder/config.ts";
import { NAME_SLOTS } from "../src/responder/names.ts";

beforeAll(() => freshLab());
afterAll(() => xt("lab", "down"));

const PINS = `/sys/fs/bpf/xdptool/${DUT}`;
const query = (name: string) => buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", sport: 5000, dport: 53, payload: dnsQuery(name) });
/** The XDP action the running program returns for a query of `name` (3 TX: answered, 2 PASS). */
function verdicts(names: string[]): number[] {
  const fd = fdById("prog", json("status", DUT).id);
  try {
    return names.map((n) => testRun(fd, { data: query(n), dataOut: 512 }).retval);
  } finally {
    closeFd(fd);
  }
}
function nameBase(): number {
  const m = BpfMap.pinned(join(PINS, "resp_config"));
  try {
    return m.lookup(Buffer.alloc(4))!.readUInt32LE(RESP_LAYOUT.xt_resp_config.name_base);
  } finally {
    m.close();
  }
}
const names = Array.from({ length: MAX_QNAMES }, (_, i) => `n${i.toString(36)}.zone${i % 13}.test`);
const enableNames = (list: string[]) => xt("responder", "enable", DUT, "--qname", list.join(","));

test(`${MAX_QNAMES} names: each answered (and names under it, in any case), its parent and its siblings passed`, () => {
  expect(enableNames(names).code).toBe(0);
  expect(json<any[]>("responder", "status", DUT)[0].config.qnames).toBe(MAX_QNAMES);
  expect(verdicts(names).filter((v) => v !== 3)).toEqual([]);
  expect(verdicts(names.map((n) => `WWW.${n.toUpperCase()}`)).filter((v) => v !== 3)).toEqual([]);
  const unlisted = [...Array.from({ length: 13 }, (_, z) => `zone${z}.test`), ...names.map((n) => `x${n}`), ...names.map((n) => n.replace(".test", ".tes"))];
  expect(verdicts(unlisted).filter((v) => v !== 2)).toEqual([]);
}, 120_000);

// Printable ASCII as --qname takes it, weighted towards the characters around A–Z and a–z whose
// codes differ from a letter's by the lowercasing bit (0x20): @ ` [ { \\ | ] } ^ ~ _ DEL-1.
const CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-@`[{\\|]}^~_";
/** What the program must answer: some suffix starting at a label of the name, lowercased in A–Z
 *  only, is listed. */
function listedRef(name: string, listed: Set<string>): boolean {
  const labels = name.split(".").map((l) => l.replace(/[A-Z]/g, (c) => c.toLowerCase()));
  return labels.some((_, i) => listed.has(labels.slice(i).join(".")));
}

test("names of every length across the hash's 8-byte words, and characters next to A–Z: answered exactly as the reference says", () => {
  let seed = 0x9e3779b9;
  const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
  const label = (len: number) => Array.from({ length: len }, () => CHARS[rnd(CHARS.length)]).join("");
  // Wire lengths 2..64 and a few near 255: every remainder mod 8 many times over.
  const listed: string[] = [];
  for (let len = 1; len <= 40; len++) listed.push(`${label(len)}.${label(1 + rnd(5))}`);
  listed.push(`${label(63)}.${label(63)}.${label(63)}.${label(61)}`); // 254 bytes on the wire
  const lower = listed.map((n) => n.replace(/[A-Z]/g, (c) => c.toLowerCase()));
  // It replaces the full list of the test before: the names' text map holds MAX_QNAMES, so the new
  // list only fits once the old one is out (enable failed half-way, E2BIG, when it added first).
  const r = xt("responder", "enable", DUT, "--qname", listed.join(","));
  expect([r.code, r.stderr]).toEqual([0, ""]);
  expect(json<any[]>("responder", "status", DUT)[0].config.names).toEqual([...new Set(listed.map((n) => n.replace(/[A-Z]/g, (c) => c.toLowerCase())))].sort());
  const set = new Set(lower);
  const flip = (c: string) => (/[a-z]/i.test(c) ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : String.fromCharCode(c.charCodeAt(0) ^ 0x20));
  const queries: string[] = [];
  for (const n of lower) {
    queries.push(n, n.toUpperCase(), `www.${n}`, `x${n}`, `${label(1 + rnd(9))}.${n.toUpperCase()}`);
    // One character flipped by 0x20: a letter's case (still listed) or a neighbour (@ ↔ `, [ ↔ {…: not).
    for (let k = 0; k < 4; k++) {
      const at = rnd(n.length);
      if (n[at] === "." || (n.length > 200 && k > 0)) continue;
      const c = flip(n[at]);
      if (!/^[\x21-\x7e]$/.test(c) || c === ".") continue;
      queries.push(n.slice(0, at) + c + n.slice(at + 1));
    }
  }
  const fits = queries.filter((q) => q.length <= 253);
  const want = fits.map((q) => (listedRef(q, set) ? 3 : 2));
  const got = verdicts(fits);
  const wrong = fits.map((q, i) => `${q}: ${got[i]} (want ${want[i]})`).filter((_, i) => got[i] !== want[i]);
  expect(wrong).toEqual([]);
  expect(want.filter((w) => w === 2).length).toBeGreaterThan(50); // the neighbours and prefixes really were asked
});

test("a new --qname list goes into the other half of the table and replaces the old one at once", () => {
  expect(enableNames(names.slice(0, 3)).code).toBe(0);
  expect(json<any[]>("responder", "status", DUT)[0].config.qnames).toBe(3); // read back from either half
  const before = nameBase();
  expect(xt("responder", "enable", DUT, "--qname", "other.test").code).toBe(0);
  expect(nameBase()).toBe(before === 0 ? NAME_SLOTS : 0);
  expect(verdicts([...names.slice(0, 3), "other.test", "a.other.test"])).toEqual([2, 2, 2, 3, 3]);
  expect(json<any[]>("responder", "status", DUT)[0].config.qnames).toBe(1);
});

test(`more than ${MAX_QNAMES} names: exit 2, one line, the selection unchanged`, () => {
  const r = enableNames([...names, "one-more.test"]);
  expect([r.code, r.stderr.trim().split("\n").length]).toEqual([2, 1]);
  expect(r.stderr).toContain(`--qname: at most ${MAX_QNAMES} names`);
  expect(verdicts(["other.test", names[0]])).toEqual([3, 2]);
});
