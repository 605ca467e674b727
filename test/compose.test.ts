// Composition: several features on one interface, in the one combined program; switching one
// never detaches, resets or pauses the others; an upgrade keeps every map; foreign programs stay.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { DUT, ROOT, XDPTOOL, compileAndRun, ethtoolStats, freshLab, inNs, json, sh, xt, xtOk } from "./helpers.ts";
import { FEATURE_BITS, LAYOUT_VERSION } from "../src/combined/bits.ts";
import { FORMER_NAMES } from "../src/maps/renamed.ts";

const dir = mkdtempSync(join(tmpdir(), "xt-compose-"));
const status = () => json<any[]>("status", "--all").find((s) => s.interface === DUT);
const answered = () => json<any[]>("responder", "status").find((r) => r.interface === DUT)?.counters.answered ?? 0;
/** Pin name → kernel map id, for the maps pinned in xdptool's directory for the DUT. */
const mapIds = () => {
  const out: Record<string, number> = {};
  for (const m of json<any[]>("map", "list")) for (const p of m.pins) if (p.includes(`/xdptool/${DUT}/`)) out[p.split("/").pop()!] = m.id;
  return out;
};

beforeAll(() => freshLab());
afterAll(() => {
  xt("unload", DUT, "--force");
  xt("lab", "down");
});

test("feature bits and layout version match bpf/include/xdptool.h", () => {
  const out = compileAndRun(`#include <stdio.h>
#include <linux/types.h>
#include "${join(ROOT, "bpf/include/xdptool.h")}"
int main(void) { printf("%u %u %u %u %zu\\n", XT_F_BLACKLIST, XT_F_RESPONDER, XT_F_SAMPLER, XT_LAYOUT_VERSION, sizeof(struct xt_features)); return 0; }`);
  expect(out.trim()).toBe(`${FEATURE_BITS.blacklist} ${FEATURE_BITS.responder} ${FEATURE_BITS.sampler} ${LAYOUT_VERSION} 8`);
});

describe("responder and sampler on one interface", () => {
  test("a capture joins the running responder, sees its XDP_TX verdicts, and leaves it untouched", async () => {
    const on = json("responder", "enable", DUT, "--qname", "example.test");
    expect(on.action).toBe("attached");
    expect(status()).toMatchObject({ program: "xdptool", features: ["responder"] });
    xtOk("lab", "traffic", "--dns", "example.test", "--count", "100");
    expect(answered()).toBe(100);

    const pcap = join(dir, "tx.pcap");
    const cap = Bun.spawn([XDPTOOL, "sample", DUT, "-w", pcap, "--action", "tx", "-c", "20", "--json"], { stdout: "pipe", stderr: "pipe", env: { ...process.env } });
    // Wait until the capture has switched its stage on.
    for (let i = 0; i < 100 && !status().features.includes("sampler"); i++) await Bun.sleep(50);
    expect(status().features).toEqual(["responder", "sampler"]);
    expect(status().id).toBe(on.progId); // joined, not re-attached
    xtOk("lab", "traffic", "--dns", "example.test", "--count", "20");
    xtOk("lab", "traffic", "--count", "30"); // plain UDP: passes, must not be captured (--action tx)
    const [code, out, err] = await Promise.all([cap.exited, new Response(cap.stdout).text(), new Response(cap.stderr).text()]);
    expect(`${code} ${err}`).toStartWith("0 ");
    const r = JSON.parse(out);
    expect(r.captured).toBe(20);
    expect(r.seen).toBe(r.sampledOut + r.filtered + r.submitted + r.lost);
    // Every captured packet is a TC reply the responder built, as tshark reads it.
    const t = sh(["tshark", "-r", pcap, "-T", "fields", "-e", "dns.flags.response", "-e", "dns.flags.truncated"]);
    expect(t.stdout.trim().split("\n")).toEqual(Array(20).fill("1\t1")); // QR=1, TC=1
    // The capture is gone; the responder runs on, same program, counters kept.
    expect(status()).toMatchObject({ id: on.progId, features: ["responder"] });
    expect(answered()).toBe(120);
  });

  test("upgrading (loading the combined program again) swaps atomically and keeps every map and counter", () => {
    const before = mapIds();
    const prog = status().id;
    const gen0 = ethtoolStats(DUT, DUT);
    const r = json("load", DUT, "xdptool");
    expect(r.replaced).toBe("xdptool");
    expect(r.progId).not.toBe(prog);
    // Every pin is a reused map, under its name or (renamed maps, for one release) its former one.
    const formerNames = new Set(Object.values(FORMER_NAMES));
    expect(r.reusedMaps.sort()).toEqual(Object.keys(before).filter((n) => !formerNames.has(n)).sort());
    expect(mapIds()).toEqual(before); // the very same kernel maps
    expect(status().features).toEqual(["responder"]);
    expect(answered()).toBe(120);
    xtOk("lab", "traffic", "--dns", "example.test", "--count", "50");
    expect(answered()).toBe(170);
    expect(ethtoolStats(DUT, DUT).rx_queue_0_xdp_tx - gen0.rx_queue_0_xdp_tx).toBe(50);
  });

  test("another program in place of the combined one while a feature runs: refused without --force, nothing changed", () => {
    const before = mapIds();
    const prog = status().id;
    const r = xt("load", DUT, "hello");
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`xdptool: ${DUT} runs xdptool's combined program with the responder on; loading hello would end it and remove its state: add --force, or first xdptool responder disable ${DUT}`);
    expect(status()).toMatchObject({ id: prog, features: ["responder"] });
    expect(mapIds()).toEqual(before);
    expect(answered()).toBe(170);
  });

  test("disabling the last feature takes the program off; a sample then runs standalone", () => {
    xtOk("responder", "disable", DUT);
    expect(status().program).toBeNull();
    expect(existsSync(`/sys/fs/bpf/xdptool/${DUT}`)).toBe(false);
  });
});

describe("foreign programs", () => {
  test("a feature refuses to replace another tool's program without --force", () => {
    inNs(DUT, ["ip", "link", "set", "dev", DUT, "xdp", "obj", join(ROOT, "dist/bpf/pass.bpf.o"), "sec", "xdp"]);
    const r = xt("responder", "enable", DUT);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("that xdptool did not load; --force replaces it");
    const s = xt("sample", DUT, "-c", "1");
    expect(s.code).toBe(1);
    expect(s.stderr).toContain("that xdptool did not load");
    expect(status()).toMatchObject({ program: "pass", owner: "foreign" });
    xtOk("unload", DUT, "--force");
  });
});

describe("status of one interface", () => {
  test("shows the features, their configuration and counters", () => {
    xtOk("responder", "enable", DUT, "--qname", "example.test");
    xtOk("lab", "traffic", "--dns", "example.test", "--count", "25");
    const d = json("status", DUT);
    expect(d.features).toEqual(["responder"]);
    expect(d.featureDetail.responder.config.ports).toEqual([53]);
    expect(d.featureDetail.responder.counters.answered).toBe(25);
    expect(d.counters.tx.packets).toBe(25);
    const text = xtOk("status", DUT);
    expect(text).toContain("features: responder");
    expect(text).toContain("answered 25");
    xtOk("responder", "disable", DUT);
  });
});

describe("a blacklist joining the responder", () => {
  test("gets the default room while unused; the responder keeps answering across the resize", () => {
    xtOk("responder", "enable", DUT);
    expect(json("blacklist", "attach", DUT).capacity).toBe(1_200_000);
    const before = answered();
    xtOk("lab", "traffic", "--dns", "example.test", "--count", "5");
    expect(answered() - before).toBe(5);
    xtOk("blacklist", "add", "198.18.7.0/24", "-i", DUT);
    xtOk("blacklist", "detach", DUT);
    // Off but holding a rule: attaching again keeps what it has.
    expect(json("blacklist", "attach", DUT).capacity).toBe(1_200_000);
    xtOk("blacklist", "flush", "-i", DUT);
    xtOk("blacklist", "detach", DUT);
    xtOk("responder", "disable", DUT);
  });
});

describe("blacklist, responder and sampler together", () => {
  test("order: a blacklisted source is dropped, never answered; the sampler sees the drops", async () => {
    xtOk("blacklist", "attach", DUT, "--max-rules", "1000");
    xtOk("blacklist", "add", "198.18.7.0/24", "-i", DUT);
    xtOk("responder", "enable", DUT);
    expect(status().features).toEqual(["blacklist", "responder"]);
    const pcap = join(dir, "drop.pcap");
    const cap = Bun.spawn([XDPTOOL, "sample", DUT, "-w", pcap, "--action", "drop", "-c", "40", "--json"], { stdout: "pipe", stderr: "pipe" });
    for (let i = 0; i < 100 && !status().features.includes("sampler"); i++) await Bun.sleep(50);
    const before = answered();
    xtOk("lab", "traffic", "--dns", "example.test", "--src", "198.18.7.7", "--count", "40"); // blocked
    xtOk("lab", "traffic", "--dns", "example.test", "--count", "10"); // allowed: answered
    const [code, out] = await Promise.all([cap.exited, new Response(cap.stdout).text()]);
    expect(code).toBe(0);
    expect(JSON.parse(out).captured).toBe(40);
    expect(answered() - before).toBe(10);
    const srcs = sh(["tshark", "-r", pcap, "-T", "fields", "-e", "ip.src"]).stdout.trim().split("\n");
    expect(new Set(srcs)).toEqual(new Set(["198.18.7.7"]));
    const rule = json("blacklist", "list", "-i", DUT).rules.find((r: any) => r.rule.startsWith("198.18.7.0/24"));
    expect(rule.packets).toBe(40);
    // An upgrade (the combined program loaded again) keeps the rule, its counters, and its effect.
    const up = json("load", DUT, "xdptool");
    expect(up.replaced).toBe("xdptool");
    expect(status().features).toEqual(["blacklist", "responder"]);
    xtOk("lab", "traffic", "--dns", "example.test", "--src", "198.18.7.7", "--count", "10");
    expect(json("blacklist", "list", "-i", DUT).rules.find((r: any) => r.rule.startsWith("198.18.7.0/24")).packets).toBe(50);
    expect(answered() - before).toBe(10);
  });

  test("switching features on and off under a stream never lets blocked traffic through", async () => {
    const drops0 = ethtoolStats(DUT, DUT).rx_queue_0_xdp_drops;
    const count = 2_000_000;
    const stream = Bun.spawn([XDPTOOL, "lab", "traffic", "--src", "198.18.7.9", "--count", String(count)], { stdout: "ignore", stderr: "pipe" });
    let flips = 0;
    while (stream.exitCode === null && flips < 12) {
      xtOk("responder", flips % 2 ? "enable" : "disable", DUT);
      flips++;
    }
    expect(await stream.exited).toBe(0);
    expect(flips).toBeGreaterThan(1);
    xt("responder", "enable", DUT);
    expect(ethtoolStats(DUT, DUT).rx_queue_0_xdp_drops - drops0).toBe(count);
    expect(status().features).toEqual(["blacklist", "responder"]);
  });

  test("the blacklist detaches alone; the responder keeps answering", () => {
    const id = status().id;
    xtOk("blacklist", "detach", DUT);
    expect(status()).toMatchObject({ id, features: ["responder"] });
    const before = answered();
    xtOk("lab", "traffic", "--dns", "example.test", "--src", "198.18.7.7", "--count", "5");
    expect(answered() - before).toBe(5); // no longer blocked
    xtOk("responder", "disable", DUT);
    expect(status().program).toBeNull();
  });
});

describe("a capture killed with SIGKILL", () => {
  test("leaves no sampler stage switched on: the next command clears it, the next capture works", async () => {
    xtOk("responder", "enable", DUT);
    const cap = Bun.spawn([XDPTOOL, "sample", DUT, "-w", join(dir, "k.pcap")], { stdout: "ignore", stderr: "ignore" });
    for (let i = 0; i < 100 && !status().features.includes("sampler"); i++) await Bun.sleep(50);
    cap.kill("SIGKILL");
    await cap.exited;
    expect(status().features).toEqual(["responder"]); // status found the stage without its reader
    const again = xt("sample", DUT, "-c", "3", "-w", join(dir, "k2.pcap"), "--duration", "3");
    expect(again.code).toBe(0);
    xtOk("responder", "disable", DUT);
  });
});
