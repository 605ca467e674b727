// blacklist-list.test.ts — listings are stable: with nothing happening between them, two
// `blacklist list --json` print the same bytes (a script compares them before and after a
// command), last-hit times included; and -i NETNS/IFNAME names a namespace that must hold it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { DUT, GEN, freshLab, xt, xtOk } from "./helpers.ts";

const list = () => xtOk("blacklist", "list", "-i", DUT, "--json");

beforeAll(() => {
  freshLab();
  xtOk("blacklist", "attach", DUT, "--max-rules", "1024");
});
afterAll(() => xt("lab", "down"));

test("list --json twice, no traffic between: the same bytes, last-hit times included", () => {
  xtOk("blacklist", "add", "198.18.7.0/24", "-i", DUT);
  xtOk("blacklist", "add", "2001:db8:bad::/48", "-i", DUT);
  xtOk("lab", "traffic", "--src", "198.18.7.5", "--count", "10");
  xtOk("lab", "traffic", "--src", "2001:db8:bad::5", "--dst", "2001:db8::2", "--count", "10");
  const first = list();
  expect(JSON.parse(first).rules.map((r: any) => [r.packets, typeof r.lastHit])).toEqual([[10, "string"], [10, "string"]]);
  // The wall-clock time of a hit came from two clocks read at each call: it moved by a tick.
  for (let i = 0; i < 20; i++) expect(list()).toBe(first);
});

test("-i NETNS/IFNAME: a namespace that does not exist or does not hold the interface is refused, nothing changed", () => {
  const before = xtOk("blacklist", "export", "-i", DUT);
  for (const [ns, msg] of [[GEN, `no interface "${DUT}" in network namespace ${GEN}`], ["nosuchns9", 'no network namespace "nosuchns9"']]) {
    for (const cmd of [["add", "198.18.9.0/24"], ["del", "198.18.7.0/24"], ["list"]]) {
      const r = xt("blacklist", ...cmd, "-i", `${ns}/${DUT}`);
      expect([r.code, r.stderr.trim().split("\n")]).toEqual([2, [expect.stringContaining(msg)]]);
    }
  }
  expect(xtOk("blacklist", "export", "-i", DUT)).toBe(before);
  expect(xtOk("blacklist", "add", "198.18.9.0/24", "-i", `${DUT}/${DUT}`)).toContain("added");
});
