// Metrics for every feature: `stats --prometheus` scraped before and after frames sent on the lab
// (blacklist, responder, sampler running together, a feed imported), values checked against the
// frames and the kernel's own veth counters, the exposition checked by promtool, and the shipped
// Grafana dashboard checked against what is exported.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DUT, LAB, ROOT, XDPTOOL, ethtoolStats, freshLab, sh, xt, xtOk } from "./helpers.ts";
import { startFeedServer, type FeedServer } from "./feed-helpers.ts";
import { startSample } from "./sampler-helpers.ts";
import { METRICS } from "../src/stats/metrics.ts";

const tmp = mkdtempSync(join(tmpdir(), "xt-metrics-"));
process.env.XDPTOOL_STATE_DIR = join(tmp, "state");
let feeds: FeedServer;
let exporter: ReturnType<typeof Bun.spawn>;
let url = "";

/** name{labels} → value, from one scrape. */
type Scrape = { text: string; get: (name: string, labels: string) => number; series: (name: string) => string[] };
async function scrape(): Promise<Scrape> {
  const text = await (await fetch(url)).text();
  const rows = new Map<string, number>();
  for (const m of text.matchAll(/^(\w+)\{(.*)\} (\S+)$/gm)) rows.set(`${m[1]}{${m[2]}}`, Number(m[3]));
  return {
    text,
    get: (name, labels) => rows.get(`${name}{ifname="${DUT}"${labels ? `,${labels}` : ""}}`) ?? NaN,
    series: (name) => [...rows.keys()].filter((k) => k.startsWith(`${name}{`)),
  };
}

beforeAll(async () => {
  freshLab();
  xtOk("blacklist", "attach", DUT);
  for (const r of [["add", "198.18.7.0/24"], ["allow", "198.18.7.10"], ["add", "198.18.8.0/24", "port", "22/tcp"], ["add", "2001:db8:7::/48"]]) xtOk("blacklist", ...r, "-i", DUT);
  xtOk("responder", "enable", DUT, "--qname", "example.test");
  feeds = await startFeedServer(tmp);
  xtOk("blacklist", "import", `${feeds.http}/feeds/drop.txt`, "-i", DUT);
  expect(xt("blacklist", "import", feeds.http.replace("http://", "http://u:s3cret@") + "/error", "-i", DUT).code).toBe(1);
  exporter = Bun.spawn([XDPTOOL, "stats", DUT, "--prometheus", "127.0.0.1:0", "--top-rules", "2"], { stderr: "pipe", env: { ...process.env, XDPTOOL_LAB: LAB } });
  let err = "";
  const reader = (exporter.stderr as ReadableStream<Uint8Array>).getReader();
  while (!/metrics/.test(err)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`exporter did not start: ${err}`);
    err += new TextDecoder().decode(value);
  }
  url = /(http:\S+\/metrics)/.exec(err)![1];
});
afterAll(async () => {
  exporter?.kill();
  feeds?.stop();
  xt("unload", DUT);
});

let after: Scrape;

test("every feature's metrics move by exactly the frames sent", async () => {
  const before = await scrape(), eth0 = ethtoolStats(DUT, DUT);
  const send = (...a: string[]) => xtOk("lab", "traffic", "--size", "100", ...a);
  send("--src", "198.18.7.7", "--count", "300"); //   a deny rule of ours
  send("--src", "198.18.1.5", "--count", "100"); //   the feed's 198.18.1.0/24
  send("--src", "198.18.7.10", "--count", "200"); //  the allow exception
  xtOk("lab", "traffic", "--dns", "example.test", "--count", "50"); // answered
  xtOk("lab", "traffic", "--dns", "other.test", "--count", "40"); //   passed: no_match
  const pcap = join(tmp, "s.pcap");
  const s = await startSample("-w", pcap, "-c", "25", "udp and src host 198.18.9.9");
  send("--src", "198.18.9.9", "--count", "25");
  await s.proc.exited;
  after = await scrape();
  const eth = ethtoolStats(DUT, DUT);
  const d = (name: string, labels = "") => after.get(name, labels) - before.get(name, labels);

  expect(d("xdptool_blacklist_dropped_packets_total")).toBe(400);
  expect(d("xdptool_blacklist_dropped_bytes_total")).toBe(40_000);
  expect(eth.rx_queue_0_xdp_drops - eth0.rx_queue_0_xdp_drops).toBe(400); // the kernel agrees
  expect(d("xdptool_blacklist_allowed_packets_total")).toBe(200);
  expect(d("xdptool_blacklist_allowed_bytes_total")).toBe(20_000);
  expect(d("xdptool_packets_total", 'action="drop"')).toBe(400);
  expect(after.get("xdptool_blacklist_rules", 'action="deny"')).toBe(3 + 4); // ours and the feed's
  expect(after.get("xdptool_blacklist_rules", 'action="allow"')).toBe(1);
  expect(after.get("xdptool_blacklist_capacity_rules", "")).toBeGreaterThan(0);
  // --top-rules 2: the two rules with the most packets, no other
  expect(after.series("xdptool_blacklist_rule_packets_total").sort()).toEqual([
    `xdptool_blacklist_rule_packets_total{ifname="${DUT}",rule="198.18.7.0/24",action="deny"}`,
    `xdptool_blacklist_rule_packets_total{ifname="${DUT}",rule="allow 198.18.7.10/32",action="allow"}`,
  ]);
  expect(after.get("xdptool_blacklist_rule_packets_total", 'rule="198.18.7.0/24",action="deny"')).toBe(300);
  expect(after.get("xdptool_blacklist_rule_bytes_total", 'rule="allow 198.18.7.10/32",action="allow"')).toBe(20_000);

  expect(d("xdptool_responder_answered_packets_total")).toBe(50);
  expect(eth.rx_queue_0_xdp_tx - eth0.rx_queue_0_xdp_tx).toBe(50);
  expect(d("xdptool_responder_slip_dropped_packets_total")).toBe(0);
  expect(d("xdptool_responder_passed_packets_total", 'reason="no_match"')).toBe(40);
  expect(d("xdptool_responder_passed_packets_total", 'reason="not_dns"')).toBeGreaterThanOrEqual(225);

  expect(d("xdptool_sampler_captured_packets_total")).toBe(25);
  expect(sh(["tcpdump", "-r", pcap, "-n"]).stdout.trim().split("\n")).toHaveLength(25); // what was captured is in the file
  expect(d("xdptool_sampler_lost_packets_total")).toBe(0);
  expect(d("xdptool_sampler_seen_packets_total")).toBeGreaterThanOrEqual(25);

  const ok = `url="${feeds.http}/feeds/drop.txt"`, bad = `url="${feeds.http}/error"`;
  expect(after.get("xdptool_feed_rules", ok)).toBe(4);
  expect(after.get("xdptool_feed_up", ok)).toBe(1);
  expect(after.get("xdptool_feed_up", bad)).toBe(0); // labelled without the URL's password
  expect(after.text).not.toContain("s3cret");
  const t = after.get("xdptool_feed_last_success_timestamp_seconds", ok);
  expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(600); // a Unix time in seconds, not ms or an ISO string
  expect(after.series("xdptool_feed_last_success_timestamp_seconds")).not.toContain(`xdptool_feed_last_success_timestamp_seconds{ifname="${DUT}",${bad}}`);
});

test("promtool accepts the exposition; every metric has HELP and TYPE, counters end in _total", () => {
  const file = join(tmp, "metrics.txt");
  writeFileSync(file, after.text);
  const r = sh(["sh", "-c", `promtool check metrics < ${file}`]);
  expect(r.stdout + r.stderr).toBe("");
  expect(r.code).toBe(0);
  for (const [name, [type]] of Object.entries(METRICS)) {
    expect(after.text).toContain(`# HELP ${name} `);
    expect(after.text).toContain(`# TYPE ${name} ${type}\n`);
    expect(name.endsWith("_total")).toBe(type === "counter");
  }
  const families = [...after.text.matchAll(/^# TYPE (\w+) /gm)].map((m) => m[1]);
  expect(families.sort()).toEqual(Object.keys(METRICS).sort());
});

test("the Grafana dashboard queries only metrics we export, in PromQL promtool parses", () => {
  const dash = JSON.parse(readFileSync(join(ROOT, "docs/grafana-dashboard.json"), "utf8"));
  const exprs: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) k === "expr" && typeof x === "string" ? exprs.push(x) : walk(x);
  };
  walk(dash.panels);
  expect(exprs.length).toBeGreaterThan(10);
  const used = new Set(exprs.flatMap((e) => e.match(/\bxdptool_\w+/g) ?? []));
  for (const name of used) {
    expect(Object.keys(METRICS)).toContain(name);
    expect(after.text).toContain(`# TYPE ${name} `);
  }
  // every feature is on the dashboard
  for (const f of ["blacklist", "responder", "sampler", "feed"]) expect([...used].some((n) => n.startsWith(`xdptool_${f}_`))).toBe(true);
  // each expression (Grafana's variables given values) as a recording rule: promtool parses it
  const rules = exprs.map((e, i) => `      - record: dashboard:expr${i}\n        expr: ${JSON.stringify(e.replaceAll("$__rate_interval", "5m").replaceAll("$ifname", ".*"))}`);
  const file = join(tmp, "dashboard-rules.yml");
  writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join("\n")}\n`);
  const r = sh(["promtool", "check", "rules", file]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
});

test("--top-rules is a whole number from 0 to 1000 (exit 2 otherwise)", () => {
  for (const v of ["-1", "1001", "ten"]) expect(xt("stats", DUT, "--prometheus", "127.0.0.1:0", "--top-rules", v).code).toBe(2);
});
