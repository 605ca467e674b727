// lab traffic with many sources (--src-random, --src-from): what arrives on the DUT, captured by
// tcpdump and read by tshark (checksums checked by tshark, not by us), the kernel's counters.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { DUT, LAB, ROOT, compileAndRun, ethtoolStats, freshLab, json, sh, xt, xtOk } from "./helpers.ts";
import { SRC_CFG_LAYOUT, TEMPLATE_LAYOUT } from "../src/lab/traffic.ts";
import { MAX_SOURCES } from "../src/net/sources.ts";

const dir = mkdtempSync(join(tmpdir(), "xt-traffic-"));
beforeAll(() => {
  freshLab();
  xtOk("load", DUT, "pass"); // into the stack, where tcpdump sees the frames
});
afterAll(() => xt("lab", "down"));

const u32 = (ip: string) => ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
const inPrefix = (ip: string, prefix: string) => {
  const [net, len] = prefix.split("/");
  const size = 2 ** (32 - Number(len ?? 32));
  return Math.floor(u32(ip) / size) === Math.floor(u32(net) / size);
};

/** Send with `args` while tcpdump captures `n` frames on the DUT; tshark's view of each frame. */
function captured(n: number, args: string[]) {
  return capturedWith(n, () => xtOk("lab", "traffic", "--count", String(n), ...args));
}

async function capturedWith(n: number, send: () => void): Promise<{ src: string; ip: string; udp: string; tcp: string; vlan: string }[]> {
  const pcap = join(dir, "c.pcap");
  const td = Bun.spawn(["ip", "netns", "exec", DUT, "tcpdump", "-i", DUT, "-Q", "in", "-B", "16384", "-w", pcap, "-c", String(n), "udp or tcp or vlan"], { stdout: "ignore", stderr: "pipe" });
  // tcpdump says "listening on" once its socket is open.
  const reader = (td.stderr as ReadableStream<Uint8Array>).getReader();
  for (let text = ""; !text.includes("listening on"); ) text += Buffer.from((await reader.read()).value ?? []).toString();
  send();
  await Promise.race([td.exited, Bun.sleep(5000)]);
  td.kill();
  const t = sh(["tshark", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
    "-T", "fields", "-e", "ip.src", "-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e", "tcp.checksum.status", "-e", "vlan.id"]);
  return t.stdout.split("\n").filter((l) => l.trim()).map((l) => {
    const [src, ip, udp, tcp, vlan] = l.split("\t");
    return { src, ip, udp, tcp, vlan };
  });
}

describe("lab traffic --src-random", () => {
  test("every frame's source is in the prefix, nearly all distinct; IPv4 and UDP checksums valid", async () => {
    const rows = await captured(3000, ["--src-random", "198.18.0.0/15"]);
    expect(rows).toHaveLength(3000);
    for (const r of rows) {
      expect(inPrefix(r.src, "198.18.0.0/15")).toBe(true);
      expect([r.ip, r.udp]).toEqual(["1", "1"]); // 1 = Good
    }
    // 3000 draws from 131072 addresses: ~34 repeats expected.
    expect(new Set(rows.map((r) => r.src)).size).toBeGreaterThan(2900);
  });

  test("TCP behind two VLAN tags: TCP checksum valid too; a /30 gives all four addresses", async () => {
    const rows = await captured(400, ["--src-random", "198.18.9.4/30", "--proto", "tcp", "--vlan", "10,20"]);
    expect(rows).toHaveLength(400);
    for (const r of rows) expect([r.ip, r.tcp, r.vlan.split(",").pop()]).toEqual(["1", "1", "20"]);
    expect([...new Set(rows.map((r) => r.src))].sort()).toEqual(["198.18.9.4", "198.18.9.5", "198.18.9.6", "198.18.9.7"]);
  });

  test("exactly N frames arrive (the kernel's count), and --json names the sources", () => {
    const before = ethtoolStats(DUT, DUT).rx_queue_0_xdp_packets ?? 0;
    const r = json("lab", "traffic", "--src-random", "100.64.0.0/10", "--count", "100000");
    expect(r.sources).toBe("random in 100.64.0.0/10");
    expect(ethtoolStats(DUT, DUT).rx_queue_0_xdp_packets - before).toBeGreaterThanOrEqual(100000);
    expect(ethtoolStats(DUT, DUT).rx_queue_0_xdp_packets - before).toBeLessThan(100050);
    expect([r.resent, r.refused]).toEqual([expect.any(Number), 0]);
  });

  test("the largest frame the receiver's MTU allows arrives, with and without a VLAN tag", () => {
    const before = ethtoolStats(DUT, DUT).rx_queue_0_xdp_packets ?? 0;
    xtOk("lab", "traffic", "--count", "100", "--size", "1514");
    xtOk("lab", "traffic", "--count", "100", "--size", "1518", "--vlan", "7");
    expect(ethtoolStats(DUT, DUT).rx_queue_0_xdp_packets - before).toBeGreaterThanOrEqual(200);
    expect(ethtoolStats(DUT, DUT).rx_queue_0_xdp_packets - before).toBeLessThan(210);
  });
});

describe("lab traffic --src-from", () => {
  test("a blacklist rule file: sources only from its IPv4 entries (prefixes give addresses inside), each used", async () => {
    const file = join(dir, "rules.txt");
    writeFileSync(file, ["# botnet", "198.18.7.5", "198.18.64.0/24 ; a prefix", "", "2001:db8::1", "allow 198.18.200.1", "  198.18.9.9 port 53/udp", "mac 02:00:00:00:00:01"].join("\n"));
    const rows = await captured(2000, ["--src-from", file, "--dst", "198.18.0.2"]);
    expect(rows).toHaveLength(2000);
    const entries = ["198.18.7.5", "198.18.64.0/24", "198.18.9.9"];
    const used = new Set<string>();
    for (const r of rows) {
      const e = entries.find((p) => inPrefix(r.src, p));
      expect(e).toBeDefined();
      used.add(e!);
      expect([r.ip, r.udp]).toEqual(["1", "1"]);
    }
    expect(used.size).toBe(3);
    expect(new Set(rows.filter((r) => inPrefix(r.src, "198.18.64.0/24")).map((r) => r.src)).size).toBeGreaterThan(150);
  });

  test("a 50k-address list: every source is on it, nearly all distinct", async () => {
    const file = join(dir, "big.txt");
    const list = Array.from({ length: 50_000 }, (_, i) => `198.19.${i >> 8}.${i & 255}`);
    writeFileSync(file, list.join("\n"));
    const rows = await captured(2000, ["--src-from", file]);
    const listed = new Set(list);
    expect(rows).toHaveLength(2000);
    for (const r of rows) expect(listed.has(r.src)).toBe(true);
    expect(new Set(rows.map((r) => r.src)).size).toBeGreaterThan(1900); // ~40 repeats expected
  });
});

test("a list sent in order (the flood bench's shuffled lists): sources cycle through it exactly", async () => {
  const { sendFrames } = await import("../src/lab/traffic.ts");
  const { sourceList } = await import("../src/net/sources.ts");
  const { enterNetns, resolveIface } = await import("../src/ffi/netns.ts");
  const { buildFrame } = await import("../src/net/packet.ts");
  const list = ["198.18.9.1", "198.18.9.2", "198.18.9.3", "198.18.9.4", "198.18.9.5"];
  const sources = { ...sourceList(Uint32Array.from(list.map(u32)), list.map(() => 32)), inOrder: true };
  const frame = buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", srcMac: "02:78:74:00:00:01", dstMac: "02:78:74:00:00:02", l4: "udp" });
  const rows = await capturedWith(12, () => {
    sendFrames(resolveIface(`${LAB}-gen/${LAB}-gen`).ifindex, frame, 12, 64, sources);
    enterNetns(null); // children must start where the lab's namespaces are visible
  });
  expect(rows.map((r) => r.src)).toEqual([...list, ...list, ...list].slice(0, 12));
  for (const r of rows) expect([r.ip, r.udp]).toEqual(["1", "1"]);
});

describe("bad input: exit 2, one line", () => {
  const empty = join(dir, "empty.txt"), typo = join(dir, "typo.txt");
  beforeAll(() => {
    writeFileSync(empty, "# nothing\n\n2001:db8::1\nallow 1.2.3.4\n");
    writeFileSync(typo, "198.18.7.5\n198.18.7.500\n");
  });
  const cases: [string[], string][] = [
    [["--src-random", "198.18.0.0/33"], 'invalid prefix length "/33"'],
    [["--src-random", "198.18.0.x/15"], "invalid address"],
    [["--src-random", "2001:db8::/64"], "an IPv4 prefix is needed"],
    [["--src-random", "198.18.0.0/15", "--src-from", "/dev/null"], "alternatives"],
    [["--src-random", "198.18.0.0/15", "--src", "2001:db8::1"], "leave out --src"],
    [["--src-from", "/dev/null", "--src", "198.18.0.1"], "leave out --src"],
    [["--src-random", "198.18.0.0/15", "--dst", "2001:db8::2"], "--dst 2001:db8::2 is IPv6"],
    [["--src", "198.18.0"], 'invalid --src address "198.18.0"'],
    [["--dst", "2001:db8::g"], 'invalid --dst address "2001:db8::g"'],
    [["--src-from", "/nonexistent/list"], "no such file"],
    [["--src-from", "/tmp"], "is a directory"],
    [["--src-from", "/dev/null"], "no IPv4 address or prefix"],
    [["--src-from", empty], "no IPv4 address or prefix"],
    [["--src-from", typo], ':2: "198.18.7.500" is not an IPv4 address or prefix'],
    // veth drops a frame over the receiver's MTU without a trace: 1515 bytes is one too many.
    [["--size", "1515"], "do not fit " + DUT + "'s MTU 1500 (1514-byte frames at most)"],
  ];
  for (const [args, msg] of cases) {
    test(args.join(" "), () => {
      const r = xt("lab", "traffic", "--count", "10", ...args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(msg);
    });
  }

  test(`a list longer than the generator's limit is refused, naming it`, () => {
    const file = join(dir, "huge.txt");
    writeFileSync(file, "100.64.0.1\n".repeat(MAX_SOURCES + 1)); // repeats count: they are drawn more often
    const r = xt("lab", "traffic", "--count", "10", "--src-from", file);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`more than ${MAX_SOURCES} IPv4 sources`);
  });
});

test("tx_template and tx_src_cfg: the TypeScript offsets are the C header's", () => {
  const out = compileAndRun(`#include <stdio.h>
#include <stddef.h>
#include "${join(ROOT, "bpf/include/tx.h")}"
#define F(s, f) printf("%s %zu\\n", #s "." #f, offsetof(struct s, f))
int main(void) {
  F(tx_template, len); F(tx_template, ip_off); F(tx_template, l4_csum_off); F(tx_template, ip_csum_base);
  F(tx_template, l4_csum_base); F(tx_template, data);
  F(tx_src_cfg, mode); F(tx_src_cfg, addr); F(tx_src_cfg, hostmask); F(tx_src_cfg, count);
  printf("tx_src_cfg.size %zu\\n", sizeof(struct tx_src_cfg));
  return 0;
}`);
  const T = TEMPLATE_LAYOUT, S = SRC_CFG_LAYOUT;
  expect(out.trim().split("\n")).toEqual([
    `tx_template.len ${T.len}`, `tx_template.ip_off ${T.ipOff}`, `tx_template.l4_csum_off ${T.l4CsumOff}`, `tx_template.ip_csum_base ${T.ipCsumBase}`,
    `tx_template.l4_csum_base ${T.l4CsumBase}`, `tx_template.data ${T.data}`,
    `tx_src_cfg.mode ${S.mode}`, `tx_src_cfg.addr ${S.addr}`, `tx_src_cfg.hostmask ${S.hostmask}`, `tx_src_cfg.count ${S.count}`, `tx_src_cfg.size ${S.size}`,
  ]);
});
