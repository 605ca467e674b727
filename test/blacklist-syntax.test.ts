// blacklist-syntax.test.ts — rule lines as operators write them (issue 16): port lists, ranges and
// service names, address ranges. Each expands to the rules it stands for; the kernel judges
// traffic by them; a bad one is refused whole (exit 2, nothing added).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DUT, ethtoolStats, freshLab, xt, xtOk } from "./helpers.ts";

const bl = (...args: string[]) => xt("blacklist", ...args, "-i", DUT);
const blOk = (...args: string[]) => xtOk("blacklist", ...args, "-i", DUT);
const exported = () => blOk("export").trim().split("\n").filter(Boolean);
const drops = () => ethtoolStats(DUT, DUT).rx_queue_0_xdp_drops;

/** Frames dropped of `n` sent with these lab traffic options. */
function dropped(n: number, ...opts: string[]): number {
  const before = drops();
  xtOk("lab", "traffic", "--count", String(n), ...opts);
  return drops() - before;
}

beforeAll(() => {
  freshLab();
  xtOk("blacklist", "attach", DUT);
});
afterAll(() => xt("lab", "down"));

test("a port list, a range and a service name: one rule per port, each judged by the kernel", () => {
  blOk("flush");
  blOk("add", "198.18.0.1", "port", "80,443/tcp");
  blOk("add", "port", "6881-6883/udp");
  blOk("add", "198.18.0.1", "port", "ssh/tcp");
  expect(exported().sort()).toEqual([
    "198.18.0.1/32 port 22/tcp", "198.18.0.1/32 port 443/tcp", "198.18.0.1/32 port 80/tcp",
    "port 6881/udp", "port 6882/udp", "port 6883/udp",
  ]);
  expect(dropped(100, "--proto", "tcp", "--dport", "443")).toBe(100);
  expect(dropped(100, "--proto", "tcp", "--dport", "22")).toBe(100);
  expect(dropped(100, "--proto", "tcp", "--dport", "8080")).toBe(0);
  expect(dropped(100, "--proto", "udp", "--dport", "6882")).toBe(100);
  expect(dropped(100, "--proto", "udp", "--dport", "6884")).toBe(0);
  // del takes the same line and removes exactly what it stands for
  blOk("del", "198.18.0.1", "port", "80,443/tcp");
  expect(exported().sort()).toEqual(["198.18.0.1/32 port 22/tcp", "port 6881/udp", "port 6882/udp", "port 6883/udp"]);
});

test("an address range: the fewest prefixes that cover it, and only it", () => {
  blOk("flush");
  blOk("add", "198.18.0.1-198.18.0.6");
  expect(exported().sort()).toEqual(["198.18.0.1/32", "198.18.0.2/31", "198.18.0.4/31", "198.18.0.6/32"]);
  for (const [src, n] of [["198.18.0.1", 50], ["198.18.0.6", 50], ["198.18.0.7", 0], ["198.18.0.0", 0]] as const) {
    expect(dropped(50, "--src", src)).toBe(n);
  }
  blOk("flush");
  blOk("add", "2001:db8::10-2001:db8::1f", "--dst");
  expect(exported()).toEqual(["2001:db8::10/124 --dst"]);
  blOk("flush");
});

test("an import file takes the same lines", () => {
  const dir = mkdtempSync(join(tmpdir(), "xt-syntax-"));
  const f = join(dir, "rules.txt");
  writeFileSync(f, "198.18.0.1 port 80,443/tcp\n198.18.1.0-198.18.1.255\nport domain/udp --src\n");
  blOk("import", f, "--replace");
  expect(exported().sort()).toEqual(["198.18.0.1/32 port 443/tcp", "198.18.0.1/32 port 80/tcp", "198.18.1.0/24", "port 53/udp --src"]);
  blOk("flush");
});

test("an import line with two directions (--dst --src) is refused as add refuses it: FILE:LINE, exit 2, nothing added", () => {
  blOk("flush");
  const dir = mkdtempSync(join(tmpdir(), "xt-syntax-"));
  const f = join(dir, "dirs.txt");
  writeFileSync(f, "198.18.72.0/24 --dst\n198.18.73.0/24 --dst --src\n198.18.74.0/24\n");
  const r = bl("import", f);
  expect([r.code, r.stderr.trim()]).toEqual([2, `xdptool: ${f}:2: choose one of --src, --dst, --any (got --dst and --src)`]);
  expect(exported()).toEqual([]);
  const a = bl("add", "198.18.73.0/24", "--dst", "--src");
  expect([a.code, a.stderr.trim()]).toEqual([2, "xdptool: choose one of --src, --dst, --any (got --src and --dst)"]);
});

test("bad lists and ranges: one line, exit 2, nothing added", () => {
  blOk("flush");
  for (const [words, msg] of [
    [["port", "1-2000/tcp"], /at most 1024/],
    [["port", "90-80"], /80 is above|90 is above/],
    [["port", "80,,81"], /invalid port ""/],
    [["port", "nosuchservice"], /invalid port "nosuchservice"/],
    [["198.18.0.9-198.18.0.1"], /first address is above the last/],
    [["198.18.0.1-2001:db8::1"], /both IPv4 or both IPv6/],
  ] as const) {
    const r = bl("add", ...words);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(msg);
  }
  expect(exported()).toEqual([]);
  const t = bl("test", "198.18.0.1", "port", "80,443/tcp");
  expect(t.code).toBe(2);
  expect(t.stderr).toContain("test takes one port");
});

test("address ranges: the prefixes cover exactly the range, none overlaps, and no two could merge", () => {
  const { parseRule } = require("../src/blacklist/rules.ts") as typeof import("../src/blacklist/rules.ts");
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  for (let t = 0; t < 300; t++) {
    const a = rnd(4096), b = a + rnd(4096 - a);
    const ip = (n: number) => `198.18.${n >> 8}.${n & 255}`;
    const ps = parseRule([`${ip(a)}-${ip(b)}`]).map((r) => (r.match as { prefix: { addr: Uint8Array; len: number } }).prefix);
    const covered = new Map<number, number>();
    for (const p of ps) {
      const base = ((p.addr[2] << 8) | p.addr[3]), size = 2 ** (32 - p.len);
      expect(base % size).toBe(0); // a real prefix: aligned to its size
      for (let x = base; x < base + size; x++) covered.set(x, (covered.get(x) ?? 0) + 1);
    }
    for (let x = Math.max(0, a - 2); x <= Math.min(4095, b + 2); x++) expect(covered.get(x) ?? 0).toBe(x >= a && x <= b ? 1 : 0);
    // Fewest: no two neighbours of equal size are the two halves of one aligned block.
    const sorted = ps.map((p) => [((p.addr[2] << 8) | p.addr[3]), 2 ** (32 - p.len)]).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < sorted.length; i++) {
      const [pa, sa] = sorted[i - 1], [pb, sb] = sorted[i];
      expect(sa === sb && pa + sa === pb && pa % (2 * sa) === 0).toBe(false);
    }
  }
});

test("IPv6 addresses are written as the C library's inet_ntop writes them (RFC 5952), IPv4-mapped ones dotted", async () => {
  const { formatIPv6 } = await import("../src/net/addr.ts");
  const { spawnSync } = await import("node:child_process");
  // Random groups, many of them zero (runs to compress), a share of them IPv4-mapped. IPv4-compatible
  // ::a.b.c.d (deprecated, RFC 4291 §2.5.5.1) is left out: glibc dots it, RFC 5952 does not ask to.
  const addrs = Array.from({ length: 3000 }, (_, i) => {
    const b = new Uint8Array(16);
    for (let g = 0; g < 8; g++) if (Math.random() < 0.5) { b[g * 2] = Math.random() * 256; b[g * 2 + 1] = Math.random() * 256; }
    if (i % 5 === 0) { b.fill(0, 0, 10); b[10] = b[11] = 0xff; }
    else if (b.subarray(0, 12).every((x) => x === 0)) b[0] = 0x20;
    return b;
  });
  const py = "import socket,sys\nfor l in sys.stdin: print(socket.inet_ntop(socket.AF_INET6, bytes.fromhex(l.strip())))";
  const want = spawnSync("python3", ["-c", py], { input: addrs.map((a) => Buffer.from(a).toString("hex")).join("\n") + "\n" }).stdout.toString().trim().split("\n");
  expect(addrs.map((a) => formatIPv6(a))).toEqual(want);
  blOk("add", "::ffff:198.18.12.1", "--comment", "mapped");
  expect(exported()).toContain('::ffff:198.18.12.1/128 --comment "mapped"');
  blOk("del", "::ffff:198.18.12.1");
});
