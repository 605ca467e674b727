// config-feeds.test.ts — feeds in the configuration file: `apply` fetches them (issue 13 items 2
// and 4), keeps a feed's rules beside the file's own, asks again with a conditional request on the
// next apply, keeps the last rules when the feed cannot be fetched (a boot with no network yet),
// and says so with exit 1.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DUT, freshLab, xt, xtOk } from "./helpers.ts";
import { startFeedServer, type FeedServer } from "./feed-helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "xt-cfgfeeds-"));
process.env.XDPTOOL_STATE_DIR = join(tmp, "state");
let srv: FeedServer;
const exported = () => xtOk("blacklist", "export", "-i", DUT).trim().split("\n").filter(Boolean).sort();
const hits = async (path: string) => ((await (await fetch(`${srv.http}/hits`)).json()) as Record<string, { full: number; notModified: number }>)[path] ?? { full: 0, notModified: 0 };

function config(url: string, name = "xdptool.toml"): string {
  const f = join(tmp, name);
  writeFileSync(f, `version = 1

[[interface]]
name = "${DUT}"
netns = "${DUT}"
mode = "auto"

[interface.blacklist]
rules = ["198.18.99.0/24"]

[[interface.blacklist.feed]]
url = "${url}"
refresh = "1h"
`);
  return f;
}

beforeAll(async () => {
  freshLab();
  srv = await startFeedServer(tmp);
});
afterAll(() => {
  srv?.stop();
  xt("unload", DUT);
});

test("apply fetches the feed, keeps its rules beside the file's, and asks again conditionally", async () => {
  const f = config(`${srv.http}/feeds/drop.txt`);
  const dry = xt("apply", f, "--dry-run");
  expect(dry.code).toBe(0);
  expect(dry.stdout + dry.stderr).toContain("fetched when applied");
  const first = xt("apply", f);
  expect(first.code).toBe(0);
  expect(exported()).toEqual(["198.18.1.0/24", "198.18.2.0/23", "198.18.40.0/21", "198.18.99.0/24", "198.19.128.0/17"]);
  expect((await hits("/feeds/drop.txt")).full).toBe(1);
  // Again: the file's rules and the feed's match the kernel; the feed answers 304.
  const again = xt("apply", f);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain("unchanged");
  expect((await hits("/feeds/drop.txt")).notModified).toBe(1);
  expect(exported()).toHaveLength(5);
});

test("a feed that cannot be fetched: its last rules stay, the file's are applied, exit 1", () => {
  const good = config(`${srv.http}/feeds/drop.txt`);
  xtOk("apply", good);
  xtOk("blacklist", "flush", "-i", DUT); // as after a reboot: no rules in the kernel
  // Same URL, the server gone for the moment: the saved copy of the feed is applied.
  const down = config(`http://127.0.0.1:9/feeds/drop.txt`, "down.toml");
  const r = xt("apply", down);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${down}:11:`); // FILE:LINE of the feed
  expect(r.stderr).toContain("1 feed not fetched");
  expect(exported()).toContain("198.18.99.0/24");
  xtOk("apply", good); // the feed's saved copy is for its own URL: back to it
  expect(exported()).toEqual(["198.18.1.0/24", "198.18.2.0/23", "198.18.40.0/21", "198.18.99.0/24", "198.19.128.0/17"]);
});
