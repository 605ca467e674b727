// The --qname table (resp_name_slots: open addressing in an array, two halves) judged query by
// query through BPF_PROG_TEST_RUN: the most names a responder holds, every one found and nothing
// beside them; a new configuration switching halves; too many names refused.
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
