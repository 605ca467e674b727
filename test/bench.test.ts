// `xdptool bench` runs end to end (figures are not asserted: timing belongs in bench/RESULTS.md).
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { LAB, ROOT, sh, XDPTOOL } from "./helpers.ts";

test("bench stats: every scenario measured, ratios to bare XDP_DROP, Markdown and SVG written", () => {
  const dir = mkdtempSync(join(tmpdir(), "xt-bench-"));
  const md = join(dir, "r.md"), svg = join(dir, "p.svg");
  const r = sh([XDPTOOL, "bench", "stats", "--lab", "xbt", "--count", "200000", "--json", "--markdown", md, "--plot", svg]);
  expect(r.code).toBe(0);
  const rs = JSON.parse(r.stdout);
  expect(rs.map((x: any) => x.name)).toEqual(["bare XDP_DROP", "bare XDP_PASS", "stats: parse + counters, XDP_DROP", "stats: parse + counters, XDP_PASS"]);
  // Each ratio is its own figure over the baseline's, measured in the same run.
  for (const x of rs) {
    expect(x.nsPerPacket).toBeGreaterThan(0);
    expect(x.nsRatio).toBeCloseTo(x.nsPerPacket / rs[0].nsPerPacket, 1);
    if (x.liveMpps) expect(x.liveRatio).toBeCloseTo(x.liveMpps / rs[0].liveMpps, 1);
  }
  expect(rs[2].liveMpps).toBeGreaterThan(0);
  expect(readFileSync(md, "utf8")).toContain("| stats: parse + counters, XDP_DROP |");
  expect(readFileSync(svg, "utf8")).toStartWith("<svg");
  // It set up its own lab and removed it.
  expect(sh(["ip", "netns", "list"]).stdout).not.toContain("xbt-dut");
});

test("bench --quick: every group runs end to end, every figure measured (so no benchmark rots unnoticed)", () => {
  const r = sh([XDPTOOL, "bench", "--quick", "--json", "--lab", "xbq"]);
  expect(r.code).toBe(0);
  const rs = JSON.parse(r.stdout) as any[];
  expect([...new Set(rs.map((x) => x.group))]).toEqual(["baseline", "stats", "blacklist", "responder", "sampler", "combined"]);
  expect(rs.map((x) => x.name)).toContain("blacklist, 100k rules, hit (dropped)");
  for (const x of rs) {
    expect(x.nsPerPacket).toBeGreaterThan(0);
    if (x.liveMpps !== null) expect(x.liveMpps).toBeGreaterThan(0);
  }
  expect(rs.filter((x) => x.liveMpps !== null).length).toBeGreaterThanOrEqual(8);
  expect(sh(["ip", "netns", "list"]).stdout).not.toContain("xbq-dut");
});

test("bench: an unknown group is a usage error", () => {
  const r = sh([XDPTOOL, "bench", "nosuch"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('unknown scenario group "nosuch"');
});

test("bench: a --markdown or --plot file it could not write is a usage error before anything is measured", () => {
  const dir = mkdtempSync(join(tmpdir(), "xt-bench-"));
  for (const [args, msg] of [
    [["--markdown", "/nonexistent-dir/r.md"], "--markdown /nonexistent-dir/r.md: no directory /nonexistent-dir"],
    [["--plot", dir], `--plot ${dir} is a directory; name a file`],
  ] as const) {
    const r = sh([XDPTOOL, "bench", "stats", ...args]);
    expect([r.code, r.stderr.trim().split("\n")]).toEqual([2, [expect.stringContaining(msg)]]);
    expect(r.stdout).toBe("");
  }
});

test("flood bench: the harness runs end to end at 1/100 scale, every candidate's drops verified", () => {
  const out = join(mkdtempSync(join(tmpdir(), "xt-flood-")), "r.md");
  const lab = `${LAB}f`;
  const r = sh(["bun", join(ROOT, "bench/flood.bench.ts")], { env: { XDPTOOL_LAB: lab, SCALE: "0.01", ROUNDS: "1", RUN_SECONDS: "0.05", RESULTS: out } });
  expect(r.code).toBe(0);
  const md = readFileSync(out, "utf8");
  for (const name of ["bare XDP_DROP", "plain BPF hash", "LPM trie", "open addressing, one 8 MiB array", "open addressing, the same table in 512 arrays", "nftables", "xdptool blacklist"]) expect(md).toMatch(new RegExp(`\\| ${name}[^|]*\\| \\d+\\.\\d+ \\(`));
  expect(md.match(/\| 100\.0% \|/g)?.length).toBeGreaterThanOrEqual(8); // everything matches on the /32 mix; LPM and blacklist on both
  expect(sh(["ip", "netns", "list"]).stdout).not.toContain(`${lab}-dut`);
});

test("manage bench: the harness runs end to end at 1/100 scale (commands timed, stall probe windows read)", () => {
  const out = join(mkdtempSync(join(tmpdir(), "xt-manage-")), "r.md");
  const lab = `${LAB}m`;
  const r = sh(["bun", join(ROOT, "bench/manage.bench.ts")], { env: { XDPTOOL_LAB: lab, SCALE: "0.01", ROUNDS: "1", RESULTS: out } });
  expect(r.code).toBe(0);
  const md = readFileSync(out, "utf8");
  expect(md).toMatch(/\| import --replace[^|]*\| \d+\.\d+ s, \d+ MB \| \d+\.\d+ s, \d+ MB \|/);
  expect(md).toMatch(/\| export \/ nft list set \| \d+\.\d+ s, \d+ MB \|/);
  expect(md).toMatch(/\| xdptool: freeing the replaced set[^|]*\| \d+ \| \d+ \|/);
  expect(sh(["ip", "netns", "list"]).stdout).not.toContain(`${lab}-dut`);
});


test("startup bench: the harness runs (hello world built in the same run, every command timed)", () => {
  const out = join(mkdtempSync(join(tmpdir(), "xt-startup-")), "r.md");
  const r = sh(["bun", join(ROOT, "bench/startup.bench.ts")], { env: { ROUNDS: "1", RESULTS: out } });
  expect(r.code).toBe(0);
  const md = readFileSync(out, "utf8");
  for (const name of ["compiled Bun hello world", "xdptool --help", "xdptool status"]) expect(md).toMatch(new RegExp(`\\| ${name} \\| \\d+\\.\\d \\| \\d+\\.\\d\\d× \\|`));
});
