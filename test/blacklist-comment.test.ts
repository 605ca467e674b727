// blacklist-comment.test.ts — `--comment TEXT` on rules (issue 16): kept in the pinned bl_notes
// map (bpftool reads it), shown by list, carried by export/import, --replace and save/apply,
// gone with its rule (del, expiry), refused when bad; and a commented rule still drops its traffic.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DUT, ethtoolStats, freshLab, json, sh, xt, xtOk } from "./helpers.ts";

const bl = (...args: string[]) => xt("blacklist", ...args, "-i", DUT);
const blOk = (...args: string[]) => xtOk("blacklist", ...args, "-i", DUT);
const exported = () => blOk("export").trim().split("\n").filter(Boolean).sort();
/** Each rule's comment as `list --json` gives it. */
const comments = (): Record<string, string | null> => Object.fromEntries(json("blacklist", "list", "-i", DUT).rules.map((r: any) => [r.rule, r.comment]));
const drops = () => ethtoolStats(DUT, DUT).rx_queue_0_xdp_drops;
const dir = mkdtempSync(join(tmpdir(), "xt-comment-"));
const file = (name: string, body: string) => {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
};
/** bl_notes as bpftool reads it: key (rule id) → text. */
function pinnedNotes(): Record<number, string> {
  const r = sh(["bpftool", "-j", "map", "dump", "pinned", `/sys/fs/bpf/xdptool/${DUT}/bl_notes`]);
  expect(r.code).toBe(0);
  const out: Record<number, string> = {};
  for (const e of JSON.parse(r.stdout)) {
    const bytes = (x: string[]) => Buffer.from(x.map((h) => parseInt(h, 16)));
    const v = bytes(e.value);
    out[bytes(e.key).readUInt32LE(0)] = v.toString("utf8", 0, v.indexOf(0) < 0 ? v.length : v.indexOf(0));
  }
  return out;
}

beforeAll(() => {
  freshLab();
  xtOk("blacklist", "attach", DUT, "--max-rules", "32768"); // room for the merge that rebuilds
});
afterAll(() => xt("lab", "down"));

test("add --comment: list shows it, bpftool reads it from the pin, the kernel drops the rule's traffic", () => {
  blOk("flush");
  const out = blOk("add", "198.18.7.0/24", "--comment", "botnet C2 list 2026-11");
  expect(out).toContain('"botnet C2 list 2026-11"');
  blOk("add", "198.18.8.1", "port", "80,443/tcp", "--comment", "web; #scanners");
  blOk("allow", "198.18.7.10", "--comment", "mgmt");
  blOk("add", "2001:db8:bad::/48");
  expect(comments()).toEqual({
    "198.18.7.0/24": "botnet C2 list 2026-11", "198.18.8.1/32 port 80/tcp": "web; #scanners", "198.18.8.1/32 port 443/tcp": "web; #scanners",
    "allow 198.18.7.10/32": "mgmt", "2001:db8:bad::/48": null,
  });
  const list = blOk("list");
  expect(list.split("\n")[0]).toMatch(/ID\s+RULE\s+TTL\s+PACKETS\s+BYTES\s+LAST HIT\s+COMMENT/);
  expect(list).toMatch(/198\.18\.7\.0\/24 .* botnet C2 list 2026-11/);
  const ids = Object.fromEntries(json("blacklist", "list", "-i", DUT).rules.map((r: any) => [r.rule, r.id]));
  expect(pinnedNotes()).toEqual({ [ids["198.18.7.0/24"]]: "botnet C2 list 2026-11", [ids["198.18.8.1/32 port 80/tcp"]]: "web; #scanners", [ids["198.18.8.1/32 port 443/tcp"]]: "web; #scanners", [ids["allow 198.18.7.10/32"]]: "mgmt" });
  const d0 = drops();
  xtOk("lab", "traffic", "--src", "198.18.7.5", "--count", "200");
  xtOk("lab", "traffic", "--src", "198.18.7.10", "--count", "100"); // the commented allow passes
  xtOk("lab", "traffic", "--src", "198.18.8.1", "--proto", "tcp", "--dport", "443", "--count", "50");
  expect(drops() - d0).toBe(250);
});

test("re-adding a rule with another comment takes it; without --comment keeps it; \"\" removes it", () => {
  blOk("add", "198.18.7.0/24", "--comment", "second thought");
  blOk("add", "198.18.7.10", "--comment", "now a deny"); // another rule (deny), its own comment
  blOk("add", "2001:db8:bad::/48", "--comment", "late");
  blOk("add", "198.18.8.1", "port", "80/tcp"); // no --comment: kept
  blOk("add", "198.18.8.1", "port", "443/tcp", "--comment", "");
  const c = comments();
  expect([c["198.18.7.0/24"], c["198.18.7.10/32"], c["2001:db8:bad::/48"], c["198.18.8.1/32 port 80/tcp"], c["198.18.8.1/32 port 443/tcp"]]).toEqual(["second thought", "now a deny", "late", "web; #scanners", null]);
});

test("export writes comments quoted; import reads them back, quotes and # ; inside included", () => {
  blOk("flush");
  blOk("add", "198.18.7.0/24", "--comment", 'say "hi" \\ # ; there');
  blOk("add", "198.18.9.0/24"); // bare: the fast path, no comment
  const lines = exported();
  expect(lines).toEqual(['198.18.7.0/24 --comment "say \\"hi\\" \\\\ # ; there"', "198.18.9.0/24"]);
  const f = file("rules.txt", lines.join("\n") + "\n198.18.10.0/24 --comment 'single quoted' # a line comment\n2001:db8:1::/48 port 53/udp --comment=\"v6 dns\"\n");
  blOk("flush");
  blOk("import", f);
  expect(comments()).toEqual({
    "198.18.7.0/24": 'say "hi" \\ # ; there', "198.18.9.0/24": null, "198.18.10.0/24": "single quoted", "2001:db8:1::/48 port 53/udp": "v6 dns",
  });
  // The same file through the rebuild path (--replace) gives the same rules and comments.
  blOk("import", f, "--replace");
  expect(comments()["198.18.7.0/24"]).toBe('say "hi" \\ # ; there');
  expect(exported()).toEqual([...lines, "198.18.10.0/24 --comment \"single quoted\"", "2001:db8:1::/48 port 53/udp --comment \"v6 dns\""].sort());
});

test("comments in any language survive export and import (UTF-8 files; a byte-order mark before the first line is not a rule)", () => {
  blOk("flush");
  blOk("add", "198.18.7.0/24", "--comment", "café ☕ Ботнет");
  const lines = exported();
  expect(lines).toEqual(['198.18.7.0/24 --comment "café ☕ Ботнет"']);
  blOk("flush");
  blOk("import", file("utf8.txt", "\ufeff" + lines.join("\r\n") + "\r\n198.18.9.0/24 ; Größe\r\n"));
  expect(comments()).toEqual({ "198.18.7.0/24": "café ☕ Ботнет", "198.18.9.0/24": null });
  blOk("import", file("utf8.txt", "\ufeff198.18.10.0/24 --comment 'naïve'\n"), "--replace");
  expect(comments()).toEqual({ "198.18.10.0/24": "naïve" });
});

test("import --replace keeps the comments of rules that stay, drops those of rules that go", () => {
  blOk("flush");
  blOk("add", "198.18.7.0/24", "--comment", "stays");
  blOk("add", "198.18.8.0/24", "--comment", "goes");
  blOk("add", "198.18.11.0/24", "--comment", "replaced");
  blOk("import", file("new.txt", "198.18.7.0/24\n198.18.11.0/24 --comment \"new text\"\n198.18.12.0/24\n"), "--replace");
  expect(comments()).toEqual({ "198.18.7.0/24": "stays", "198.18.11.0/24": "new text", "198.18.12.0/24": null });
  // A merge of more rules than are added one by one rebuilds the set: the comments come along.
  const big = Array.from({ length: 21_000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.0/24`).join("\n");
  const r = json("blacklist", "import", file("big.txt", big + "\n"), "-i", DUT);
  expect(r.method).toBe("rebuild");
  expect(comments()["198.18.7.0/24"]).toBe("stays");
  xtOk("blacklist", "gc", "-i", DUT); // frees the replaced set: its comments with it
  expect(Object.values(pinnedNotes()).sort()).toEqual(["new text", "stays"]);
  blOk("flush");
  xtOk("blacklist", "gc", "-i", DUT);
  expect(pinnedNotes()).toEqual({});
});

test("del and expiry take a rule's comment with it; the rule added again starts without one", () => {
  blOk("flush");
  xtOk("blacklist", "gc", "-i", DUT);
  blOk("add", "198.18.7.0/24", "--comment", "deleted soon");
  blOk("add", "mac", "02:00:00:00:00:09", "--comment", "by id");
  blOk("add", "198.18.13.0/24", "--ttl", "1s", "--comment", "expires");
  blOk("add", "port", "53/udp", "--ttl", "1s", "--comment", "expires too");
  blOk("del", "198.18.7.0/24");
  const id = json("blacklist", "list", "-i", DUT).rules.find((r: any) => r.rule === "mac 02:00:00:00:00:09").id;
  blOk("del", String(id));
  Bun.sleepSync(2100);
  expect(comments()).toEqual({}); // list removes expired rules
  expect(pinnedNotes()).toEqual({});
  blOk("add", "198.18.7.0/24");
  expect(comments()).toEqual({ "198.18.7.0/24": null });
});

test("bad comments: one line, exit 2, nothing added", () => {
  blOk("flush");
  for (const [args, msg] of [
    [["--comment", "x".repeat(129)], /comment is 129 bytes long \(at most 128 bytes of UTF-8\)/],
    [["--comment", "é".repeat(65)], /comment is 130 bytes long/],
    [["--comment", "two\nlines"], /control character \(U\+000A\)/],
    [["--comment", "tab\there"], /control character \(U\+0009\)/],
    [["--comment"], /comment/],
  ] as const) {
    const r = bl("add", "198.18.7.0/24", ...args);
    expect([r.code, r.stderr.trim().split("\n").length]).toEqual([2, 1]);
    expect(r.stderr).toMatch(msg);
  }
  expect(blOk("add", "198.18.7.0/24", "--comment", "é".repeat(64))).toContain("added"); // 128 bytes: fits
  blOk("del", "198.18.7.0/24");
  for (const [body, msg] of [
    ["198.18.7.0/24\n198.18.8.0/24 --comment \"unterminated\n", /rules\.txt:2: unterminated double quote/],
    ["198.18.8.0/24 --comment\n", /rules\.txt:1: --comment needs a text/],
    [`198.18.8.0/24 --comment "${"y".repeat(200)}"\n`, /rules\.txt:1: comment is 200 bytes long/],
  ] as const) {
    const r = bl("import", file("rules.txt", body));
    expect([r.code, r.stderr.trim().split("\n").length]).toEqual([2, 1]);
    expect(r.stderr).toMatch(msg);
  }
  expect(exported()).toEqual([]);
  expect(pinnedNotes()).toEqual({});
});

test("save writes comments, apply after a reboot restores them; a comment changed by hand is put back", () => {
  blOk("flush");
  blOk("add", "198.18.7.0/24", "--comment", 'C2 "list"');
  blOk("add", "198.18.8.0/24");
  blOk("add", "198.18.9.0/24", "--ttl", "1h", "--comment", "for an hour");
  const saved = join(dir, "host.toml");
  xtOk("save", saved, "--interface", DUT);
  const doc = Bun.TOML.parse(require("node:fs").readFileSync(saved, "utf8")) as any;
  expect(doc.interface[0].blacklist.rules.sort()).toEqual(['198.18.7.0/24 --comment "C2 \\"list\\""', "198.18.8.0/24"]);
  expect(doc.interface[0].blacklist.expiring[0].rule).toBe('198.18.9.0/24 --comment "for an hour"');
  // A reboot: program and pins gone.
  xt("blacklist", "detach", DUT);
  xt("unload", DUT, "--force");
  const pins = `/sys/fs/bpf/xdptool/${DUT}`;
  if (existsSync(pins)) for (const f of readdirSync(pins)) Bun.spawnSync(["rm", "-f", join(pins, f)]);
  Bun.spawnSync(["rmdir", pins]);
  const r = xt("apply", saved);
  expect([r.code, r.stderr]).toEqual([0, ""]);
  expect(comments()).toEqual({ "198.18.7.0/24": 'C2 "list"', "198.18.8.0/24": null, "198.18.9.0/24": "for an hour" });
  blOk("add", "198.18.8.0/24", "--comment", "by hand");
  const dry = xtOk("apply", saved, "--dry-run");
  expect(dry).toContain("blacklist ~ 198.18.8.0/24 (comment removed)");
  xtOk("apply", saved);
  expect(comments()["198.18.8.0/24"]).toBeNull();
  expect(xtOk("apply", saved)).toContain("nothing to change");
  const d0 = drops();
  xtOk("lab", "traffic", "--src", "198.18.7.1", "--count", "100");
  expect(drops() - d0).toBe(100);
});

test("pins from before comments (no bl_notes): a clear error, then attach adds the map, rules kept", () => {
  blOk("flush");
  blOk("add", "198.18.7.0/24", "--comment", "kept");
  expect(comments()).toEqual({ "198.18.7.0/24": "kept" });
  // An older xdptool's pins: every map but bl_notes.
  expect(sh(["rm", `/sys/fs/bpf/xdptool/${DUT}/bl_notes`]).code).toBe(0);
  const r = bl("list");
  expect([r.code, r.stderr.trim()]).toEqual([1, `xdptool: ${DUT}: the blacklist was attached by an older xdptool (no bl_notes map for rule comments); attach it again to upgrade, rules kept: xdptool blacklist attach ${DUT}`]);
  xtOk("blacklist", "attach", DUT);
  expect(comments()).toEqual({ "198.18.7.0/24": null });
  blOk("add", "198.18.7.0/24", "--comment", "again");
  expect(Object.values(pinnedNotes())).toEqual(["again"]);
  const d0 = drops();
  xtOk("lab", "traffic", "--src", "198.18.7.1", "--count", "100");
  expect(drops() - d0).toBe(100);
});
