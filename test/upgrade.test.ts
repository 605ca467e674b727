// upgrade.test.ts — pins and programs of older releases, upgraded by this build. The older
// releases are real ones, built from their commits (bench/build-base.sh):
//  - before a rename (issue 18: the sampler's maps were xt_sample_*, now samp_*;
//    src/maps/renamed.ts): read before the upgrade, adopted with their contents by it, pinned
//    under both names for one release, removed by unload;
//  - before layout changes (map layout 2: the responder's settings were 48 bytes, now 80; it had
//    fewer counters): the program is upgraded by the first feature command or `load`, the
//    settings and the counters carried over;
//  - before the suffix hash changed (map layout 5): the --qname names hashed anew from their text.
import { beforeAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "bun";
import { DUT, LAB, ROOT, freshLab, json, sh, xt, xtOk } from "./helpers.ts";

const BEFORE_RENAME = "96c457b"; // the last commit whose sampler maps had the former names
const LAYOUT_2 = "8fad8fa~1"; // map layout 2, before the responder's counters for reflection and martians
const LAYOUT_5 = "3dd8b79"; // map layout 5: the --qname names in resp_name_slots, hashed a byte at a time
const PINS = `/sys/fs/bpf/xdptool/${DUT}`;
let older = "", layout2 = "", layout5 = "";

/** xdptool as of a commit, built beside the tests. */
function build(commit: string): string {
  const b = sh(["bash", join(ROOT, "bench/build-base.sh"), commit, join(tmpdir(), `xdptool-upgrade-${LAB}-${commit.replace("~", "-")}`)]);
  if (b.code !== 0) throw new Error(`building ${commit} failed: ${b.stderr}`);
  return b.stdout.trim();
}

beforeAll(() => {
  freshLab();
  older = build(BEFORE_RENAME);
  layout2 = build(LAYOUT_2);
}, 300_000);

/** The sampler's packets-seen counter (slot 0 of its stats map, asked for by today's name). */
const seen = () => json<any[]>("map", "dump", `${DUT}/samp_stats`)[0].sum as number;

/** Capture `count` packets of lab traffic with `bin`, through a file tcpdump reads back. */
async function capture(bin: string, count: number): Promise<number> {
  const pcap = join(tmpdir(), `xdptool-upgrade-${LAB}.pcap`);
  const cap = spawn([bin, "sample", DUT, "-w", pcap, "-c", String(count)], { env: { ...process.env, XDPTOOL_LAB: LAB }, stdout: "ignore", stderr: "pipe" });
  try {
    for (let i = 0; i < 100 && !json("status", DUT).features.includes("sampler"); i++) await Bun.sleep(50);
    xtOk("lab", "traffic", "--count", String(count));
    expect(await cap.exited).toBe(0);
  } finally {
    cap.kill(); // a failed step leaves no capture behind for the next test
  }
  return sh(["tcpdump", "-r", pcap, "-nn"]).stdout.trim().split("\n").length;
}

const ls = () => sh(["ls", PINS]).stdout.split("\n").filter(Boolean);
const answered = () => json<any[]>("responder", "status", DUT)[0].counters.answered as number;
const inode = (name: string) => statSync(join(PINS, name)).ino;
const mapId = (name: string) => JSON.parse(sh(["bpftool", "-j", "map", "show", "pinned", join(PINS, name)]).stdout).id as number;

test("an older release's pins: read as they are, adopted with their contents by an upgrade, pinned under both names", async () => {
  for (const args of [["blacklist", "attach", DUT], ["blacklist", "add", "198.18.7.0/24", "-i", DUT]]) expect(sh([older, ...args]).code).toBe(0);
  expect(await capture(older, 10)).toBe(10);
  expect(sh(["ls", PINS]).stdout.split("\n")).toEqual(expect.arrayContaining(["xt_sample_stats", "xt_sample_ring", "xt_cbpf_state"]));
  expect(sh(["ls", PINS]).stdout).not.toContain("samp_");

  // This build reads the older pins before anything is reloaded.
  const before = seen();
  expect(before).toBeGreaterThanOrEqual(10);

  // A feature command of this build upgrades the older program in place: today's names too.
  xtOk("blacklist", "attach", DUT);
  expect(inode("samp_stats")).toBe(inode("xt_sample_stats"));

  // The upgrade keeps the maps (same objects, same counts) and pins each under today's name too.
  expect(json("load", DUT, "xdptool").replaced).toBe("xdptool");
  for (const [now, former] of [["samp_stats", "xt_sample_stats"], ["samp_ring", "xt_sample_ring"], ["samp_conf", "xt_sample_conf"], ["samp_cbpf", "xt_cbpf_state"]]) {
    expect(inode(now)).toBe(inode(former));
    expect(mapId(now)).toBe(mapId(former));
  }
  expect(seen()).toBe(before);

  // The adopted maps serve this build's program: a capture works and counts on.
  expect(await capture(join(ROOT, "dist/xdptool"), 10)).toBe(10);
  expect(seen()).toBeGreaterThanOrEqual(before + 10);
  expect(json("blacklist", "list", "-i", DUT).rules.map((r: any) => r.rule)).toContain("198.18.7.0/24");

  xtOk("unload", DUT);
  expect(sh(["ls", PINS]).code).not.toBe(0);
});

test("a fresh attach pins the sampler's maps under today's names, and the former ones for one release", () => {
  xt("unload", DUT);
  xtOk("blacklist", "attach", DUT);
  const shown = JSON.parse(sh(["bpftool", "-j", "map", "show", "pinned", join(PINS, "samp_stats")]).stdout);
  expect(shown.name).toBe("samp_stats");
  expect(inode("xt_sample_stats")).toBe(inode("samp_stats"));
  // The former name also reaches the map through xdptool's own map commands.
  expect(json<any[]>("map", "dump", `${DUT}/xt_sample_stats`).length).toBe(json<any[]>("map", "dump", `${DUT}/samp_stats`).length);
  xtOk("unload", DUT);
  expect(xt("status", DUT).stdout).not.toContain("samp_");
});

describe("from map layout 2: the responder's settings and counters carried into larger maps", () => {
  /** The older release's blacklist and responder on the DUT; its --qname names are hashes only. */
  function olderSetup(qname: boolean): void {
    xt("unload", DUT, "--force");
    const enable = ["responder", "enable", DUT, "--ports", "53,5353", ...(qname ? ["--qname", "example.test"] : [])];
    for (const args of [["blacklist", "attach", DUT], enable, ["blacklist", "add", "198.18.7.0/24", "-i", DUT]]) {
      expect(sh([layout2, ...args]).code).toBe(0);
    }
    expect(JSON.parse(sh(["bpftool", "-j", "map", "show", "pinned", join(PINS, "resp_config")]).stdout).bytes_value).toBe(48);
    xtOk("lab", "traffic", "--dns", "example.test", "--count", "5"); // answered by the older program
  }

  for (const [how, args] of [["a feature command (blacklist attach)", ["blacklist", "attach", DUT]], ["load IFACE xdptool", ["load", DUT, "xdptool"]]] as const) {
    test(`upgraded by ${how}: both features on, the settings and the rule kept, queries answered`, () => {
      olderSetup(false);
      xtOk(...args);
      expect(JSON.parse(sh(["bpftool", "-j", "map", "show", "pinned", join(PINS, "resp_config")]).stdout).bytes_value).toBe(80);
      const st = json("status", DUT);
      expect(st.features).toEqual(["blacklist", "responder"]);
      expect(st.featureDetail.responder.config).toMatchObject({ ports: [53, 5353], qnames: 0, unverifiedOnly: false });
      expect(answered()).toBe(5); // the older program's counters, carried into more of them
      xtOk("lab", "traffic", "--dns", "example.test", "--count", "5");
      expect(answered()).toBe(10);
      xtOk("lab", "traffic", "--src", "198.18.7.7", "--count", "5");
      expect(json("blacklist", "list", "-i", DUT).rules.find((r: any) => r.rule === "198.18.7.0/24").packets).toBe(5);
    });
  }

  test("--qname names kept only as hashes: the upgrade refused in one line, nothing changed; responder enable with the names upgrades", () => {
    olderSetup(true);
    const id = json("status", DUT).id, pins = ls();
    const r = xt("blacklist", "attach", DUT);
    expect([r.code, r.stderr.trim().split("\n").length]).toEqual([1, 1]);
    expect(r.stderr).toContain("kept only as hashes of an older xdptool");
    expect(r.stderr).toContain(`xdptool responder enable ${DUT} --qname`);
    expect(json("status", DUT).id).toBe(id);
    expect(ls()).toEqual(pins);
    xtOk("lab", "traffic", "--dns", "example.test", "--count", "5");
    expect(answered()).toBe(10); // the older program still answers, its selection intact

    xtOk("responder", "enable", DUT, "--qname", "example.test", "--ports", "53,5353");
    const st = json("status", DUT);
    expect(st.id).not.toBe(id);
    expect(st.features).toEqual(["blacklist", "responder"]);
    expect(st.featureDetail.responder.config).toMatchObject({ ports: [53, 5353], qnames: 1 });
    expect(ls()).toEqual(expect.arrayContaining(["resp_name_table"]));
    expect(ls()).not.toContain("resp_names");
    xtOk("lab", "traffic", "--dns", "www.example.test", "--count", "5");
    expect(answered()).toBe(15);
    xtOk("lab", "traffic", "--dns", "www.unlisted.test", "--count", "5");
    expect(answered()).toBe(15);
  });

  test("a program whose maps a newer xdptool stamped is not replaced behind its back", () => {
    xt("unload", DUT, "--force");
    xtOk("blacklist", "attach", DUT);
    const features = join(PINS, "xdptool_features");
    const v = Buffer.from(JSON.parse(sh(["bpftool", "-j", "map", "lookup", "pinned", features, "key", "0", "0", "0", "0"]).stdout).value.map((b: string) => Number(b)));
    v.writeUInt32LE(99, 4); // a layout from the future
    expect(sh(["bpftool", "map", "update", "pinned", features, "key", "0", "0", "0", "0", "value", ...[...v].map(String)]).code).toBe(0);
    const id = json("status", DUT).id;
    const r = xt("responder", "enable", DUT);
    expect([r.code, r.stderr.trim().split("\n").length]).toEqual([2, 1]);
    expect(r.stderr).toContain("runs the program of a newer xdptool (map layout 99");
    expect(json("status", DUT)).toMatchObject({ id, features: ["blacklist"] });
    xtOk("unload", DUT);
  });
});

describe("from map layout 5: the --qname names hashed anew, from their text, into resp_name_table", () => {
  beforeAll(() => {
    layout5 = build(LAYOUT_5);
  }, 300_000);

  function olderSetup(): void {
    xt("unload", DUT, "--force");
    for (const args of [["blacklist", "attach", DUT], ["responder", "enable", DUT, "--qname", "example.test"], ["blacklist", "add", "198.18.7.0/24", "-i", DUT]]) {
      expect(sh([layout5, ...args]).code).toBe(0);
    }
    expect(ls()).toEqual(expect.arrayContaining(["resp_name_slots"]));
    xtOk("lab", "traffic", "--dns", "example.test", "--count", "5"); // answered by the older program
  }

  test("upgraded by a feature command: the names carried, the same queries answered", () => {
    olderSetup();
    xtOk("blacklist", "attach", DUT);
    expect(ls()).toEqual(expect.arrayContaining(["resp_name_table"]));
    expect(ls()).not.toContain("resp_name_slots");
    expect(json("status", DUT).featureDetail.responder.config).toMatchObject({ qnames: 1, names: ["example.test"] });
    expect(answered()).toBe(5);
    xtOk("lab", "traffic", "--dns", "www.Example.TEST", "--count", "5");
    expect(answered()).toBe(10);
    xtOk("lab", "traffic", "--dns", "www.unlisted.test", "--count", "5");
    expect(answered()).toBe(10);
  });

  test("names that do not fit the new table under their multiplier: the upgrade refused in one line, nothing changed", () => {
    olderSetup();
    // Multiplier 1: a suffix of at most 6 bytes hashes to its own bytes, whose top 14 bits are 0 —
    // 33 such names share one home slot, more than a search probes.
    const config = join(PINS, "resp_config");
    const v = Buffer.from(JSON.parse(sh(["bpftool", "-j", "map", "lookup", "pinned", config, "key", "0", "0", "0", "0"]).stdout).value.map((b: string) => Number(b)));
    v.writeBigUInt64LE(1n, 32); // hash_mul (RESP_LAYOUT.xt_resp_config)
    expect(sh(["bpftool", "map", "update", "pinned", config, "key", "0", "0", "0", "0", "value", ...[...v].map(String)]).code).toBe(0);
    for (let i = 1; i <= 33; i++) {
      const k = Buffer.alloc(256);
      k.write(`n${i}`, "latin1");
      expect(sh(["bpftool", "map", "update", "pinned", join(PINS, "resp_qnames"), "key", ...[...k].map(String), "value", "1"]).code).toBe(0);
    }
    const id = json("status", DUT).id, pins = ls();
    const r = xt("blacklist", "attach", DUT);
    expect([r.code, r.stderr.trim().split("\n").length]).toEqual([1, 1]);
    expect(r.stderr).toContain("do not fit this xdptool's name table");
    expect(json("status", DUT).id).toBe(id);
    expect(ls()).toEqual(pins);
  });
});
