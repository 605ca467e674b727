// sample's tcpdump flags for reading and printing: -i, -r (ours, tcpdump's, Wireshark's files),
// a filter on what is read, -e/-x/-n on printed lines, -r with -w.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { DUT, LAB, XDPTOOL, sh, xt } from "./helpers.ts";
import { sampleLab, started, attached, f, startSample, traffic, readPcap, warnings } from "./sampler-helpers.ts";

sampleLab();

/** The packet lines of a command's stdout (the summary goes to stderr). */
const lines = (out: string) => out.split("\n").filter((l) => /^\d\d:\d\d:\d\d\.\d{6} /.test(l));
/** A line without its clock (the same packet printed twice prints the same rest). */
const rest = (l: string) => l.replace(/^\S+ /, "");

let live: string[] = [];
beforeAll(async () => {
  // One capture, printed live and written as pcapng at the same time is impossible (one sampler
  // per interface): print it live first, then capture the same traffic to a file. Only IPv4: the
  // kernel's own IPv6 chatter (MLD, router solicitations) comes in one run and not the other.
  const s = await startSample("-c", "30", "ip");
  traffic("--count", "20", "--src", "198.18.0.1");
  traffic("--count", "10", "--dns", "example.test", "--size", "100");
  expect(await s.proc.exited).toBe(0);
  await Bun.sleep(50); // the last of its output
  live = lines(s.stdout());
  const w = await startSample("-w", f("ours.pcapng"), "--pcapng", "-c", "30", "ip");
  traffic("--count", "20", "--src", "198.18.0.1");
  traffic("--count", "10", "--dns", "example.test", "--size", "100");
  expect(await w.proc.exited).toBe(0);
});

describe("sample -r: reading captures back", () => {
  test("our pcapng prints the lines live printing printed: interface, verdict, addresses", () => {
    const r = xt("sample", "-r", f("ours.pcapng"));
    expect(r.code).toBe(0);
    expect(live).toHaveLength(30);
    expect(lines(r.stdout).map(rest)).toEqual(live.map(rest));
    expect(r.stderr).toContain("30 packets from");
  });

  test("a filter applies, with -c, as tcpdump's own filter on the same file", () => {
    const r = xt("sample", "-r", f("ours.pcapng"), "udp", "port", "53");
    const ref = sh(["tcpdump", "-r", f("ours.pcapng"), "-c", "100", "udp port 53"]);
    expect(ref.code).toBe(0);
    expect(lines(r.stdout)).toHaveLength(ref.stdout.trim().split("\n").length);
    expect(lines(r.stdout).every((l) => l.includes(".53: UDP"))).toBe(true);
    expect(lines(xt("sample", "-r", f("ours.pcapng"), "-c", "4", "udp port 53").stdout)).toHaveLength(4);
  });

  test("tcpdump's pcap (microseconds) and Wireshark's pcapng (editcap) read the same; no verdict there: '-'", () => {
    expect(sh(["tcpdump", "-r", f("ours.pcapng"), "-w", f("td.pcap")]).code).toBe(0);
    expect(sh(["editcap", "-F", "pcapng", f("td.pcap"), f("ws.pcapng")]).code).toBe(0);
    const ours = lines(xt("sample", "-r", f("ours.pcapng")).stdout);
    for (const file of ["td.pcap", "ws.pcapng"]) {
      const r = xt("sample", "-r", f(file));
      expect(r.code).toBe(0);
      const got = lines(r.stdout);
      // Same packets, same microseconds; the interface and verdict are what the file records.
      expect(got.map((l) => l.replace(/^(\S+) \S+ \S+/, "$1"))).toEqual(ours.map((l) => l.replace(/^(\S+) \S+ \S+/, "$1")));
      expect(got[0].split(" ")[2]).toBe("-");
    }
  });

  test("-r with -w: the filtered packets in a new file tshark reads, verdicts kept in pcapng", () => {
    const r = xt("sample", "-r", f("ours.pcapng"), "-w", f("dns.pcapng"), "--pcapng", "udp port 53");
    expect(r.code).toBe(0);
    const t = sh(["tshark", "-r", f("dns.pcapng"), "-T", "fields", "-e", "udp.dstport", "-e", "frame.verdict.ebpf_xdp"]);
    expect(warnings(t.stderr)).toBe("");
    expect(t.stdout.trim().split("\n")).toEqual(Array(10).fill("53\t2"));
    // And pcap, tcpdump's format, from the same.
    expect(xt("sample", "-r", f("ours.pcapng"), "-w", f("dns.pcap"), "udp port 53").code).toBe(0);
    expect(readPcap(f("dns.pcap"))).toHaveLength(10);
  });

  test("a pcapng of two sections (two files concatenated) reads both", () => {
    writeFileSync(f("two.pcapng"), Buffer.concat([readFileSync(f("ours.pcapng")), readFileSync(f("dns.pcapng"))]));
    const r = xt("sample", "-r", f("two.pcapng"));
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toHaveLength(40);
    expect(lines(r.stdout).slice(30).every((l) => l.includes(".53: UDP"))).toBe(true);
  });

  test("-r - reads standard input", () => {
    const r = sh(["sh", "-c", `cat ${f("td.pcap")} | ${XDPTOOL} sample -r - 'src host 198.18.0.1'`]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout).length).toBeGreaterThanOrEqual(20);
  });

  test("a capture cut in the middle of a packet: what came before is printed, then one line saying so", () => {
    const b = readFileSync(f("td.pcap"));
    writeFileSync(f("cut.pcap"), b.subarray(0, b.length - 10));
    const r = xt("sample", "-r", f("cut.pcap"));
    expect(r.code).toBe(2);
    expect(lines(r.stdout)).toHaveLength(29);
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/: the capture ends in the middle of packet 30 at byte \d+ \(\d+ bytes announced, \d+ left\)$/)]);
  });
});

describe("sample: -i, -e, -x, -n on live lines", () => {
  test("-i IFACE: every word is the filter; -e prints the MACs, -x the bytes from the IP header; -nn -ex grouped", async () => {
    const s = await startSample_i("-nn", "-ex", "-c", "2", "udp", "port", "9"); // grouped, as tcpdump users type them
    traffic("--count", "2");
    expect(await s.exited).toBe(0);
    const out = await new Response(s.stdout as ReadableStream).text();
    const first = out.split("\n").slice(0, 4);
    expect(first[0]).toMatch(/ pass 02:78:74:00:00:01 > 02:78:74:00:00:02, ethertype 0x0800, length 60: IP 198\.18\.0\.1\.1024 > 198\.18\.0\.2\.9: UDP, length 18$/);
    // 46 bytes of IPv4 + UDP + payload: three rows, the first starting with the IPv4 header.
    expect(first[1]).toMatch(/^\t0x0000:  4500 002e /);
    expect(first[2]).toMatch(/^\t0x0010:  c612 0002 0400 0009 /);
    expect(first[3]).toMatch(/^\t0x0020:  (0000 ?){7}$/);
  });
});

/** `xdptool sample -i DUT …` (startSample puts the interface first). */
async function startSample_i(...args: string[]) {
  const p = Bun.spawn([XDPTOOL, "sample", "-i", DUT, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, XDPTOOL_LAB: LAB } });
  started.push(p);
  await attached();
  return p;
}
