// Feeds: `blacklist import URL` from a real HTTP(S) server (test/feed-server.ts, a child process)
// serving fixtures in the formats real feeds use; rules checked in the kernel's maps (export) and
// with traffic on the lab; conditional requests; failures that must leave the rules untouched.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DUT, ROOT, ethtoolStats, freshLab, json, sh, xt, xtOk } from "./helpers.ts";
import { startFeedServer, type FeedServer } from "./feed-helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "xt-feeds-"));
process.env.XDPTOOL_STATE_DIR = join(tmp, "state"); // every xdptool the tests run inherits it
let srv: FeedServer;
let http = "", https = "", raw = "";

const bl = (...a: string[]) => xt("blacklist", ...a, "-i", DUT);
const blOk = (...a: string[]) => xtOk("blacklist", ...a, "-i", DUT);
/** The rules as the kernel's maps hold them, sorted; TTLs left out (they tick). */
const exported = () => blOk("export").trim().split("\n").filter(Boolean).map((l) => l.replace(/ --ttl \d+s$/, " --ttl")).sort();
const hits = async (path: string) => ((await (await fetch(`${http}/hits`)).json()) as Record<string, { full: number; notModified: number }>)[path] ?? { full: 0, notModified: 0 };
const state = () => JSON.parse(readFileSync(join(tmp, "state/feeds.json"), "utf8")).feeds as Record<string, any>;

beforeAll(async () => {
  freshLab();
  xtOk("blacklist", "attach", DUT);
  srv = await startFeedServer(tmp);
  ({ http, https, raw } = srv);
});
afterAll(() => {
  srv?.stop();
  xt("unload", DUT);
});

describe("each real format lands in the kernel's maps", () => {
  const cases: [string, string[]][] = [
    ["drop.txt", ["198.18.1.0/24", "198.18.2.0/23", "198.18.40.0/21", "198.19.128.0/17"]],
    ["drop_v6.txt", ["2001:db8:4000::/34", "2001:db8:ff00::/40"]],
    ["edrop.txt", ["198.18.64.0/20", "198.18.96.0/19"]], // CRLF line ends
    ["firehol_level1.netset", ["198.18.16.0/24", "198.18.17.5/32", "198.18.17.9/32", "198.18.20.0/22", "198.18.24.0/21"]],
    ["blocklist_de.ipset", ["198.18.30.1/32", "198.18.30.2/32", "198.18.30.77/32", "198.18.31.200/32"]],
    ["plain.txt", ["198.18.50.1/32", "198.18.51.0/24", "2001:db8:50::/48", "2001:db8:51::7/128"]],
    ["export.txt", ["198.18.60.0/24", "allow 198.18.60.10/32", "198.18.61.0/24 port 22/tcp", "2001:db8:60::/48", "proto gre", "198.18.62.0/24 --ttl"]],
  ];
  for (const [name, want] of cases) {
    test(name, () => {
      const r = bl("import", `${http}/feeds/${name}`, "--replace", "--json");
      expect(r.stderr).toBe("");
      const out = JSON.parse(r.stdout);
      expect(out.status).toBe("applied");
      expect(out.rules).toBe(want.length);
      expect(exported()).toEqual([...want].sort());
    });
  }
});

test("a listed source is dropped on the lab, an unlisted one is not; the rule counts it", () => {
  blOk("import", `${http}/feeds/drop.txt`, "--replace", "--force");
  const drops = () => ethtoolStats(DUT, DUT).rx_queue_0_xdp_drops;
  const d0 = drops();
  json("lab", "traffic", "--src", "198.18.1.7", "--count", "1000");
  expect(drops() - d0).toBe(1000);
  json("lab", "traffic", "--src", "198.18.9.9", "--count", "1000");
  expect(drops() - d0).toBe(1000);
  const rule = (json("blacklist", "list", "-i", DUT).rules as any[]).find((x) => x.rule === "198.18.1.0/24");
  expect(rule.packets).toBe(1000);
});

test("second fetch: 304, nothing downloaded or applied (counters kept after --replace)", async () => {
  const before = await hits("/feeds/drop.txt");
  const rules = exported();
  const r = bl("import", `${http}/feeds/drop.txt`, "--replace");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("unchanged (304 not modified)");
  const after = await hits("/feeds/drop.txt");
  expect(after.notModified).toBe(before.notModified + 1);
  expect(after.full).toBe(before.full);
  expect(exported()).toEqual(rules);
  // a re-applied --replace would have built a new set: counters from zero
  const rule = (json("blacklist", "list", "-i", DUT).rules as any[]).find((x) => x.rule === "198.18.1.0/24");
  expect(rule.packets).toBe(1000);
  const st = state()[`${DUT} ${http}/feeds/drop.txt`];
  expect(st.etag).toMatch(/^"[0-9a-f]+"$/);
  expect(st.rules).toBe(4);
  expect(st.lastError).toBeUndefined();
});

test("If-Modified-Since alone (no ETag) also gets a 304", async () => {
  const url = `${http}/lm/firehol_level1.netset`;
  expect(bl("import", url, "--replace").code).toBe(0);
  const r = bl("import", url, "--replace", "--json");
  expect(JSON.parse(r.stdout)).toMatchObject({ status: "unchanged", why: "304 not modified", rules: 5 });
  expect(await hits("/lm/firehol_level1.netset")).toEqual({ full: 1, notModified: 1 });
});

test("an unchanged feed whose rules are gone (flush, re-attach, reboot) is applied from the kept copy", async () => {
  const url = `${http}/feeds/drop.txt`;
  blOk("import", url, "--replace"); // present: unchanged
  blOk("flush");
  const before = await hits("/feeds/drop.txt");
  const out = JSON.parse(blOk("import", url, "--replace", "--json"));
  expect(out.status).toBe("applied");
  expect(out.why).toContain("304 not modified, but its rules were missing");
  expect(await hits("/feeds/drop.txt")).toEqual({ full: before.full, notModified: before.notModified + 1 }); // nothing downloaded
  expect(exported()).toEqual(["198.18.1.0/24", "198.18.2.0/23", "198.18.40.0/21", "198.19.128.0/17"]);
  expect(JSON.parse(blOk("import", url, "--replace", "--json")).status).toBe("unchanged");
  // a kept copy that no longer parses is not trusted: the feed is downloaded afresh
  for (const f of readdirSync(join(tmp, "state/feeds"))) writeFileSync(join(tmp, "state/feeds", f), "not a rule\n");
  blOk("flush");
  const full = (await hits("/feeds/drop.txt")).full;
  expect(JSON.parse(blOk("import", url, "--replace", "--json"))).toMatchObject({ status: "applied", rules: 4 });
  expect((await hits("/feeds/drop.txt")).full).toBe(full + 1);
  expect(exported()).toEqual(["198.18.1.0/24", "198.18.2.0/23", "198.18.40.0/21", "198.19.128.0/17"]);
});

test("merge: a feed's rules follow the feed, other rules stay (with their counters)", async () => {
  blOk("flush");
  blOk("add", "198.18.99.0/24");
  await fetch(`${http}/changing`, { method: "PUT", body: "198.18.90.1\n198.18.91.0/24\n2001:db8:91::/48\n" });
  blOk("import", `${http}/changing`);
  expect(exported()).toEqual(["198.18.90.1/32", "198.18.91.0/24", "198.18.99.0/24", "2001:db8:91::/48"]);
  json("lab", "traffic", "--src", "198.18.91.1", "--count", "70");
  // the same prefix written as a full rule ("--src") is the same rule: kept, not replaced
  await fetch(`${http}/changing`, { method: "PUT", body: "; today\n198.18.91.0/24 --src\n198.18.92.0/24 ; new\n" });
  const out = JSON.parse(blOk("import", `${http}/changing`, "--json"));
  expect(out).toMatchObject({ status: "applied", removed: 2, rules: 2 });
  expect(exported()).toEqual(["198.18.91.0/24", "198.18.92.0/24", "198.18.99.0/24"]);
  const rule = (json("blacklist", "list", "-i", DUT).rules as any[]).find((x) => x.rule === "198.18.91.0/24");
  expect(rule.packets).toBe(70);
});

describe("a feed that fails leaves the rules untouched: exit 1, one line", () => {
  const cases: [string, () => string, string[], RegExp][] = [
    ["HTTP 500", () => `${http}/error`, [], /: HTTP 500/],
    ["404", () => `${http}/feeds/nonexistent.txt`, [], /: HTTP 404/],
    ["garbage (an HTML error page)", () => `${http}/garbage`, [], /\/garbage:1: /],
    ["an empty feed", () => `${http}/empty`, [], /the feed lists no rules/],
    ["larger than --max-size", () => `${http}/big`, ["--max-size", "64K"], /more than --max-size 65536|larger than --max-size 65536/],
    ["truncated (connection closed early)", () => `${raw}/truncated`, [], /cut short/],
    ["a redirect loop", () => `${http}/loop`, [], /more than 5 redirects/],
    ["a timeout", () => `${http}/slow`, ["--timeout", "0.5"], /timed out after 0.5 s/],
    ["connection refused", () => "http://127.0.0.1:1/drop.txt", [], /ECONNREFUSED/],
    ["TLS: a certificate nobody vouches for", () => `${https}/feeds/drop.txt`, [], /self.signed/i],
  ];
  for (const [what, url, extra, reason] of cases) {
    test(what, () => {
      blOk("import", `${http}/feeds/plain.txt`, "--replace", "--force");
      const before = exported();
      const r = bl("import", url(), "--replace", "--force", ...extra);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(reason);
      expect(r.stderr).toContain("the blacklist was left as it was");
      expect(exported()).toEqual(before);
      expect(state()[`${DUT} ${url()}`].lastError).toMatch(reason);
    });
  }
});

test("https with a trusted CA (NODE_EXTRA_CA_CERTS); a redirect is followed", () => {
  const r = sh([process.env.XDPTOOL ?? join(ROOT, "dist/xdptool"), "blacklist", "import", `${https}/feeds/edrop.txt`, "--replace", "-i", DUT], { env: { NODE_EXTRA_CA_CERTS: srv.cert } });
  expect(r.stderr).toBe("");
  expect(exported()).toEqual(["198.18.64.0/20", "198.18.96.0/19"]);
  blOk("import", `${http}/moved`, "--replace");
  expect(exported()).toEqual(["198.18.1.0/24", "198.18.2.0/23", "198.18.40.0/21", "198.19.128.0/17"]);
});

test("HTTP_PROXY is honoured (the name is resolved by the proxy, not here)", () => {
  const r = sh([process.env.XDPTOOL ?? join(ROOT, "dist/xdptool"), "blacklist", "import", "http://feeds.example.invalid/feeds/plain.txt", "--replace", "-i", DUT], { env: { HTTP_PROXY: http } });
  expect(r.stderr).toBe("");
  expect(exported()).toEqual(["198.18.50.1/32", "198.18.51.0/24", "2001:db8:50::/48", "2001:db8:51::7/128"]);
});

test("a password in the URL is not repeated in output, errors or the metrics", () => {
  const withPw = (path: string) => http.replace("http://", "http://feeduser:s3cret@") + path;
  const ok = bl("import", withPw("/feeds/plain.txt"), "--replace");
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain(`${http}/feeds/plain.txt`);
  const bad = bl("import", withPw("/garbage"));
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain(`${http}/garbage:1:`);
  for (const out of [ok.stdout, bad.stderr]) expect(out).not.toContain("s3cret");
});

test("bad flags are usage errors (exit 2) before anything is fetched", () => {
  expect(bl("import", `${http}/feeds/drop.txt`, "--max-size", "lots").code).toBe(2);
  expect(bl("import", `${http}/feeds/drop.txt`, "--timeout", "0").code).toBe(2);
  expect(bl("import", "ftp://example.test/drop.txt").code).toBe(2);
});
