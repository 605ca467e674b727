// Map management on any map: found by id, pin or name; BTF-typed keys and values; bpftool parity.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BpfMap } from "../src/ffi/map.ts";
import { DUT, LAB, ROOT, freshLab, json, sh, xt, xtOk } from "./helpers.ts";

const PINS = [`/sys/fs/bpf/${LAB}-maptest`, `/sys/fs/bpf/${LAB}-maptest2`];
const P = (m: string) => `${PINS[0]}/${m}`;
const STATS = `/sys/fs/bpf/xdptool/${DUT}/xdptool_stats`;
const bpftool = (...a: string[]) => JSON.parse(sh(["bpftool", "-j", ...a]).stdout);
const hexBytes = (a: string[]) => a.map((x) => x.replace(/^0x/, "")).join(" ");

beforeAll(() => {
  freshLab();
  xtOk("load", DUT, "hello");
  const obj = join(mkdtempSync(join(tmpdir(), "xt-maps-")), "maps.o");
  const cc = sh(["clang", "-g", "-O2", "-target", "bpf", "-I", join(ROOT, "libbpf/out/include"), "-I", `/usr/include/${process.arch === "x64" ? "x86_64" : "aarch64"}-linux-gnu`, "-c", join(ROOT, "test/fixtures/maps.bpf.c"), "-o", obj]);
  if (cc.code !== 0) throw new Error(cc.stderr);
  for (const d of PINS) {
    sh(["rm", "-rf", d]);
    sh(["mkdir", "-p", d]);
    const r = sh(["bpftool", "prog", "loadall", obj, `${d}/progs`, "pinmaps", d, "type", "xdp"]);
    if (r.code !== 0) throw new Error(r.stderr);
  }
});
afterAll(() => {
  for (const d of PINS) sh(["rm", "-rf", d]);
  xt("unload", DUT);
});

describe("finding maps", () => {
  test("list shows every map with type, sizes, pin path and owner program", () => {
    const rows = json<any[]>("map", "list");
    const lpm = rows.find((r) => r.pins.includes(P("t_lpm")));
    expect(lpm).toMatchObject({ type: "lpm_trie", name: "t_lpm", keySize: 8, valueSize: 4, maxEntries: 64, flags: 1 });
    expect(lpm.programs.map((p: any) => p.name)).toEqual(["t_maps"]);
    const stats = rows.find((r) => r.pins.includes(STATS));
    expect(stats).toMatchObject({ type: "percpu_array", name: "xdptool_stats", keySize: 4, valueSize: 16, maxEntries: 19 });
    expect(stats.programs[0].name).toBe("hello");
    // the ids are the kernel's: bpftool agrees
    expect(bpftool("map", "show", "pinned", P("t_lpm")).id).toBe(lpm.id);
    expect(xtOk("map", "list")).toContain(P("t_lpm"));
  });

  test('by id, "id N", pin path and xdptool-relative pin give the same map', () => {
    const id = bpftool("map", "show", "pinned", P("t_flows")).id;
    const uniq = bpftool("map", "show", "pinned", STATS).id;
    xtOk("map", "update", P("t_flows"), "{saddr: 198.18.0.9, daddr6: ::, port: 1, mac: 00:00:00:00:00:00}", "{hits: 1, verdict: V_ALLOW, tag: x}");
    for (const spec of [String(id), `id ${id}`, P("t_flows")]) expect(json<any[]>("map", "dump", spec).length).toBe(1);
    expect(json<any[]>("map", "dump", `${DUT}/xdptool_stats`).length).toBe(19);
    expect(json<any[]>("map", "dump", `id ${uniq}`).length).toBe(19);
  });

  test("bpftool's own selectors, as separate words: id N, pinned PATH, name NAME (dump, get, update, delete)", () => {
    const id = bpftool("map", "show", "pinned", STATS).id;
    expect(json<any[]>("map", "dump", "id", String(id)).length).toBe(19);
    expect(json<any[]>("map", "dump", "pinned", STATS).length).toBe(19);
    expect(json<any>("map", "get", "id", String(id), "0").key).toBe(0);
    const flows = bpftool("map", "show", "pinned", P("t_flows")).id;
    const key = "{saddr: 198.18.0.8, daddr6: ::, port: 2, mac: 00:00:00:00:00:00}";
    xtOk("map", "update", "id", String(flows), key, "{hits: 7, verdict: V_ALLOW, tag: y}");
    expect(json<any>("map", "get", "pinned", P("t_flows"), key).value.hits).toBe(7);
    xtOk("map", "delete", "id", String(flows), key);
    expect(xt("map", "get", "id", String(flows), key).code).not.toBe(0);
  });

  test("bpftool's whole lines: map lookup, key/value as byte words (decimal, 0x, octal, hex), any/exist/noexist", () => {
    const big = P("t_big"); // __u32 → __u64
    const theirs = () => sh(["bpftool", "-j", "map", "lookup", "pinned", big, "key", "7", "0", "0", "0"]);
    xtOk("map", "update", "pinned", big, "key", "7", "0", "0", "0", "value", "0x2a", "0", "0", "0", "0", "0", "0", "0", "noexist");
    expect(hexBytes(JSON.parse(theirs().stdout).value)).toBe("2a 00 00 00 00 00 00 00");
    const again = xt("map", "update", "pinned", big, "key", "7", "0", "0", "0", "value", "1", "0", "0", "0", "0", "0", "0", "0", "noexist");
    expect(again.code).toBe(1); // the key is there: EEXIST, nothing written
    expect(json<any>("map", "lookup", "pinned", big, "key", "hex", "07", "00", "00", "00").value).toBe(42);
    xtOk("map", "update", "id", String(bpftool("map", "show", "pinned", big).id), "key", "07", "0", "0", "0", "value", "010", "0", "0", "0", "0", "0", "0", "0", "exist");
    expect(hexBytes(JSON.parse(theirs().stdout).value)).toBe("08 00 00 00 00 00 00 00");
    xtOk("map", "delete", "pinned", big, "key", "7", "0", "0", "0");
    expect(theirs().code).not.toBe(0);
    const bad = xt("map", "lookup", "pinned", big, "key", "300", "0", "0", "0");
    expect([bad.code, bad.stderr.trim()]).toEqual([2, 'xdptool: bad key byte "300" in bpftool\'s form (key [hex] BYTE…, e.g. key 0 0 0 1 or key hex 0a 00 00 01)']);
    const short = xt("map", "lookup", "pinned", big, "key", "7", "0", "0");
    expect(short.code).toBe(2);
    expect(short.stderr).toContain("4 bytes");
  });

  test("an ambiguous name is an error listing the ids", () => {
    const ids = PINS.map((d) => bpftool("map", "show", "pinned", `${d}/t_lpm`).id);
    const r = xt("map", "dump", "t_lpm");
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    for (const id of ids) expect(r.stderr).toMatch(new RegExp(`ids .*\\b${id}\\b`));
  });
});

describe("BTF-typed keys and values", () => {
  test("LPM key {prefixlen, addr[4]}: update/get/dump show the address; bpftool sees the same bytes", () => {
    xtOk("map", "update", P("t_lpm"), "{prefixlen: 24, addr: 198.18.0.0}", "7");
    const raw = bpftool("map", "dump", "pinned", P("t_lpm"));
    expect(raw).toHaveLength(1);
    expect(hexBytes(raw[0].key)).toBe("18 00 00 00 c6 12 00 00");
    expect(raw[0].formatted.value).toBe(7);
    expect(json("map", "get", P("t_lpm"), "{prefixlen: 24, addr: 198.18.0.0}")).toEqual({ key: { prefixlen: 24, addr: "198.18.0.0" }, value: 7 });
    expect(xtOk("map", "dump", P("t_lpm"))).toBe("key: {prefixlen: 24, addr: 198.18.0.0}  value: 7\n");
    // the text dump is valid input: get with the printed key
    expect(xtOk("map", "get", P("t_lpm"), "{prefixlen: 24, addr: 198.18.0.0}")).toContain("value: 7");
    // raw hex keys work for any map
    expect(json("map", "get", P("t_lpm"), "18 00 00 00 c6 12 00 00").value).toBe(7);
  });

  test("struct key with IPv4 (__u32 saddr), IPv6 (u8[16]), MAC (u8[6]); value with enum and char[]", () => {
    xtOk("map", "update", P("t_flows"), '{saddr: 198.18.0.1, daddr6: 2001:db8::2, port: 53, mac: 02:78:74:00:00:01}', '{hits: 3, verdict: V_DENY, tag: "dns"}');
    const e = json<any[]>("map", "dump", P("t_flows")).find((x) => x.key.saddr === "198.18.0.1");
    expect(e).toEqual({ key: { saddr: "198.18.0.1", daddr6: "2001:db8::2", port: 53, mac: "02:78:74:00:00:01" }, value: { hits: 3, verdict: "V_DENY", tag: "dns" } });
    const b = bpftool("map", "dump", "pinned", P("t_flows")).find((x: any) => x.formatted.key.port === 53);
    expect(hexBytes(b.key).slice(0, 11)).toBe("c6 12 00 01"); // network order, as a packet has it
    expect(b.formatted.key.daddr6).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    expect(b.formatted.key.mac).toEqual([2, 0x78, 0x74, 0, 0, 1]);
    expect(b.formatted.value).toEqual({ hits: 3, verdict: "V_DENY", tag: "dns" });
    // JSON input works too
    xtOk("map", "delete", P("t_flows"), '{"saddr": "198.18.0.1", "daddr6": "2001:db8::2", "port": 53, "mac": "02:78:74:00:00:01"}');
    expect(bpftool("map", "dump", "pinned", P("t_flows")).some((x: any) => x.formatted.key.port === 53)).toBe(false);
    // Compact JSON, as jq -c and scripts write it (the colon and value arrive as one token).
    xtOk("map", "update", P("t_flows"), '{"saddr":"198.18.0.1","daddr6":"2001:db8::2","port":53,"mac":"02:78:74:00:00:01"}', '{"hits":4,"verdict":"V_DENY","tag":"dns"}');
    expect(bpftool("map", "dump", "pinned", P("t_flows")).find((x: any) => x.formatted.key.port === 53).formatted.value.hits).toBe(4);
    xtOk("map", "delete", P("t_flows"), '{"saddr":"198.18.0.1","daddr6":"2001:db8::2","port":53,"mac":"02:78:74:00:00:01"}');
    const gone = xt("map", "delete", P("t_flows"), '{saddr: 198.18.0.1, daddr6: 2001:db8::2, port: 53, mac: 02:78:74:00:00:01}');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("is not in map t_flows");
  });
});

describe("our counters: bpftool parity and writes the running program sees", () => {
  const ours = () => json<any[]>("map", "dump", STATS).map((e) => ({ key: e.key, values: e.values }));
  const theirs = () => bpftool("map", "dump", "pinned", STATS).map((e: any) => ({ key: e.formatted.key, values: e.formatted.values }));

  test("xdptool map dump --json and bpftool -j map dump show the same entries (per CPU)", () => {
    xtOk("lab", "traffic", "--count", "1000");
    let same = false;
    for (let i = 0; i < 5 && !same; i++) {
      // the stack sends a packet now and then: compare only when bpftool saw no change around us
      const before = theirs(), mine = ours(), after = theirs();
      if (JSON.stringify(before) !== JSON.stringify(after)) continue;
      expect(mine).toEqual(before);
      same = true;
    }
    expect(same).toBe(true);
    const sum = json<any[]>("map", "dump", STATS)[10]; // udp
    expect(sum.sum.packets).toBe(sum.values.reduce((s: number, v: any) => s + v.value.packets, 0));
    expect(sum.sum.packets).toBeGreaterThanOrEqual(1000);
  });

  test("resetting the udp counter to 0: bpftool sees it, and the program counts exactly N more", () => {
    xtOk("map", "update", STATS, "10", "{packets: 0, bytes: 0}");
    const seen = bpftool("map", "lookup", "pinned", STATS, "key", "10", "0", "0", "0");
    expect(seen.formatted.values.every((v: any) => v.value.packets === 0 && v.value.bytes === 0)).toBe(true);
    xtOk("lab", "traffic", "--count", "12345");
    expect(json("map", "get", STATS, "10").sum).toEqual({ packets: 12345, bytes: 12345 * 60 });
    const b = bpftool("map", "lookup", "pinned", STATS, "key", "10", "0", "0", "0");
    expect(b.formatted.values.reduce((s: number, v: any) => s + v.value.packets, 0)).toBe(12345);
  });
});

test("a million entries dump completely (batched), no progress output when stderr is not a terminal", () => {
  const m = BpfMap.pinned(P("t_big"));
  const n = 1_000_000, k = Buffer.alloc(4 * n), v = Buffer.alloc(8 * n);
  for (let i = 0; i < n; i++) {
    k.writeUInt32LE(i, 4 * i);
    v.writeBigUInt64LE(BigInt(i) * 3n + 1n, 8 * i);
  }
  for (let off = 0; off < n; off += 100_000) m.updateBatch(k.subarray(off * 4, (off + 100_000) * 4), v.subarray(off * 8, (off + 100_000) * 8), 100_000);
  m.close();
  const r = sh([join(ROOT, "dist/xdptool"), "map", "dump", P("t_big"), "--json"]);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe("");
  const all = JSON.parse(r.stdout) as { key: number; value: number }[];
  expect(all.length).toBe(n);
  expect(new Set(all.map((e) => e.key)).size).toBe(n);
  expect(all.every((e) => e.value === e.key * 3 + 1)).toBe(true);
});

describe("bad input: exit 2, one line naming the expected shape, nothing changed", () => {
  const lpmKey = "key is struct { __u32 prefixlen; __u8 addr[4]; }";
  const cases: [string, string[], string][] = [
    ["unknown map id", ["map", "dump", "4294967295"], "no map with id"],
    ["unknown map name", ["map", "dump", "no_such_map_x"], 'no map named "no_such_map_x"'],
    ["unknown pin", ["map", "dump", "/sys/fs/bpf/nope/nope"], "no pinned map"],
    ["pin that is not a map", ["map", "dump", `${PINS[0]}/progs/t_maps`], "is not a map"],
    ["malformed key", ["map", "get", P("t_lpm"), "{prefixlen: 24, addr: 198.18.0}"], lpmKey],
    ["unknown field", ["map", "get", P("t_lpm"), "{prefixlen: 24, adr: 198.18.0.0}"], lpmKey],
    ["wrong key size", ["map", "update", P("t_lpm"), "0a 00 00", "1"], lpmKey],
    ["value out of range", ["map", "update", P("t_lpm"), "{prefixlen: 24, addr: 198.18.0.0}", "4294967296"], "value is __u32"],
    ["malformed value", ["map", "update", STATS, "2", "{packets: 1}"], "value is struct { __u64 packets; __u64 bytes; }"],
    ["array index past the end", ["map", "update", STATS, "19", "{packets: 0, bytes: 0}"], "key must be 0..18"],
    ["delete from an array", ["map", "delete", STATS, "2"], "is a percpu-array map: an array's keys cannot be deleted"],
    ["a pin directory", ["map", "dump", PINS[0]], "is a directory; name a pinned map in it"],
    ["a file outside bpffs", ["map", "dump", "/etc/hostname"], "is not on a BPF file system"],
    ["enum name unknown", ["map", "update", P("t_flows"), "{saddr: 1, daddr6: ::, port: 1, mac: 00:00:00:00:00:00}", "{hits: 1, verdict: V_MAYBE, tag: x}"], "enum verdict"],
  ];
  for (const [name, args, msg] of cases) {
    test(name, () => {
      const before = sh(["bpftool", "-j", "map", "dump", "pinned", P("t_lpm")]).stdout;
      const r = xt(...args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(msg);
      expect(sh(["bpftool", "-j", "map", "dump", "pinned", P("t_lpm")]).stdout).toBe(before);
    });
  }

  test("a value for a read-only (frozen) map", () => {
    expect(sh(["bpftool", "map", "freeze", "pinned", P("t_frozen")]).code).toBe(0);
    const r = xt("map", "update", P("t_frozen"), "0", "5");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is frozen (read-only from user space)");
    expect(bpftool("map", "lookup", "pinned", P("t_frozen"), "key", "0", "0", "0", "0").formatted.value).toBe(0);
    // the libbpf-loaded program's .rodata-style maps behave the same; reading still works
    expect(json("map", "get", P("t_frozen"), "0").value).toBe(0);
  });
});
