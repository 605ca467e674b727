// blacklist-list.test.ts — listings are stable: with nothing happening between them, two
// `blacklist list --json` print the same bytes (a script compares them before and after a
// command), last-hit times included.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { DUT, freshLab, xt, xtOk } from "./helpers.ts";

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
