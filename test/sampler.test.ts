// sample: XDP → pcap. Real peers read what we write (capinfos, tshark, tcpdump) and real traffic
// (LIVE_FRAMES frames built by src/net/packet.ts, pings through the stack) is what we capture.
import { formatPacket } from "../src/sampler/format.ts";
import { CBPF_MAX, CFG_LAYOUT, HDR_LAYOUT, MODE, SAMPLE_STATS } from "../src/sampler/layout.ts";
import { describe, expect, test } from "bun:test";
import { openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

import { DUT, GEN, LAB, XDPTOOL, compileAndRun, ethtoolStats, inNs, sh, xt } from "./helpers.ts";
import { buildFrame } from "../src/net/packet.ts";

import { sampleLab, started, dir, f, startSample, stop, attached, traffic, readPcap, warnings, addsUp, type Running } from "./sampler-helpers.ts";

sampleLab();

describe("sample: shared layout", () => {
  test("struct xt_samp_hdr and xt_samp_cfg match what the TypeScript side reads", () => {
    const out = compileAndRun(`
      #include <stdio.h>
      #include <stddef.h>
      #include <linux/types.h>
      #include "${join(import.meta.dir, "../bpf/include/xdptool.h")}"
      #define F(s, f) printf("%s %zu\\n", #s "." #f, offsetof(struct s, f))
      int main() {
        printf("hdr.size %zu\\n", sizeof(struct xt_samp_hdr));
        F(xt_samp_hdr, tstamp); F(xt_samp_hdr, orig_len); F(xt_samp_hdr, cap_len); F(xt_samp_hdr, ifindex); F(xt_samp_hdr, rx_queue); F(xt_samp_hdr, action);
        printf("cfg.size %zu\\n", sizeof(struct xt_samp_cfg));
        F(xt_samp_cfg, watermark); F(xt_samp_cfg, rate); F(xt_samp_cfg, snaplen); F(xt_samp_cfg, mode);
        F(xt_samp_cfg, drop); F(xt_samp_cfg, kfilter); F(xt_samp_cfg, actions);
        printf("mode.perf %d\\nmode.ringbuf %d\\n", XT_SAMP_MODE_PERF, XT_SAMP_MODE_RINGBUF);
        printf("stats %d %d %d %d %d %d\\n", XT_SAMP_SEEN, XT_SAMP_SAMPLED_OUT, XT_SAMP_SUBMITTED, XT_SAMP_LOST, XT_SAMP_FILTERED, XT_SAMP_STAT_MAX);
        printf("cbpf %zu %zu %d\\n", sizeof(struct xt_cbpf_insn), sizeof(struct xt_cbpf_prog), XT_CBPF_MAX);
      }`);
    const ts = [
      `hdr.size ${HDR_LAYOUT.size}`, `xt_samp_hdr.tstamp ${HDR_LAYOUT.tstamp}`, `xt_samp_hdr.orig_len ${HDR_LAYOUT.origLen}`,
      `xt_samp_hdr.cap_len ${HDR_LAYOUT.capLen}`, `xt_samp_hdr.ifindex ${HDR_LAYOUT.ifindex}`, `xt_samp_hdr.rx_queue ${HDR_LAYOUT.rxQueue}`, `xt_samp_hdr.action ${HDR_LAYOUT.action}`, `cfg.size ${CFG_LAYOUT.size}`,
      ...(["watermark", "rate", "snaplen", "mode", "drop", "kfilter", "actions"] as const).map((f) => `xt_samp_cfg.${f} ${CFG_LAYOUT[f]}`),
      `mode.perf ${MODE.perf}`, `mode.ringbuf ${MODE.ringbuf}`,
      `stats ${SAMPLE_STATS.map((_, i) => i).join(" ")} ${SAMPLE_STATS.length}`,
      `cbpf 8 ${8 + 8 * CBPF_MAX} ${CBPF_MAX}`,
    ];
    expect(out.trim().split("\n")).toEqual(ts);
  });
});

describe("sample: the writer", () => {
  // Records of every size from 1 byte to 5000 through the chunked, threaded, direct-I/O writer:
  // what lands in the file (on disk, where direct I/O applies, and on tmpfs) is what was written.
  for (const dirPath of [dir, "/dev/shm"]) {
    test(`Output writes every byte in order across chunk boundaries (${dirPath === dir ? "disk" : "tmpfs"})`, async () => {
      const { Output } = await import("../src/sampler/output.ts");
      const path = join(dirPath, `xt-output-${process.pid}.bin`);
      const expected: Buffer[] = [];
      try {
        const out = new Output(openSync(path, "w"), true);
        await out.ready;
        let seed = 1;
        for (let total = 0; total < 12 << 20; ) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          const n = 1 + (seed % 5000);
          const at = out.reserve(n);
          for (let i = 0; i < n; i++) out.buf[at + i] = (seed >>> (i & 7)) + i;
          expected.push(Buffer.from(out.buf.subarray(at, at + n)));
          out.pos = at + n;
          total += n;
        }
        out.close();
        expect(readFileSync(path).equals(Buffer.concat(expected))).toBe(true);
      } finally {
        rmSync(path, { force: true });
      }
    });
  }
});

describe("sample: what we write is what was sent", () => {
  for (const mode of ["ringbuf", "perf"]) {
    test(`${mode}: LIVE_FRAMES frames appear byte-identical, with wall-clock timestamps`, async () => {
      const frame = buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", l4: "udp", sport: 1024, dport: 9, srcMac: "02:78:74:00:00:01", dstMac: "02:78:74:00:00:02", frameSize: 300 });
      const t0 = Date.now() / 1000;
      const s = await startSample("-w", f(`${mode}.pcap`), "--transport", mode, "--json", "udp");
      traffic("--count", "2000", "--size", "300");
      const c = await stop(s);
      // "udp" keeps out what the kernel sends of its own accord (IPv6 router solicitations, MLD).
      expect(c).toMatchObject({ captured: 2000, lost: 0, transport: mode });
      expect(c.seen).toBe(2000 + c.filtered);
      addsUp(c);
      const pkts = readPcap(f(`${mode}.pcap`));
      expect(pkts).toHaveLength(2000);
      for (const p of pkts) expect(p.data.equals(Buffer.from(frame))).toBe(true);
      const ci = sh(["capinfos", "-a", "-c", "-M", "-T", "-r", f(`${mode}.pcap`)]);
      expect(ci.code).toBe(0);
      expect(warnings(ci.stderr)).toBe("");
      const [, count, start] = ci.stdout.trim().split("\t");
      expect(Number(count)).toBe(2000);
      // Timestamps are the packet's time of day (boot clock + offset), not a clock near zero.
      expect(Math.abs(Date.parse(start.replace(" ", "T") + "Z") / 1000 - t0)).toBeLessThan(60);
      const ts = sh(["tshark", "-r", f(`${mode}.pcap`), "-c", "1", "-T", "fields", "-e", "udp.dstport", "-e", "ip.src"]);
      expect(ts.stdout.trim()).toBe("9\t198.18.0.1");
      expect(warnings(ts.stderr)).toBe("");
    });
  }

  test("same packets as tcpdump on the generator side (pings through the stack)", async () => {
    const td = Bun.spawn(["ip", "netns", "exec", GEN, "tcpdump", "-i", GEN, "-w", f("gen.pcap"), "-U", "--immediate-mode", "icmp[icmptype] = icmp-echo"], { stdout: "ignore", stderr: "pipe" });
    started.push(td);
    // tcpdump says "listening on" once its socket is open.
    const reader = (td.stderr as ReadableStream<Uint8Array>).getReader();
    for (let text = ""; !text.includes("listening on"); ) text += Buffer.from((await reader.read()).value ?? []).toString();
    const s = await startSample("-w", f("dut.pcap"), "icmp[icmptype] = icmp-echo");
    expect(inNs(GEN, ["ping", "-c", "20", "-i", "0.01", "-s", "200", "198.18.0.2"]).code).toBe(0);
    await stop(s);
    td.kill("SIGINT");
    await td.exited;
    const ours = readPcap(f("dut.pcap")).map((p) => p.data.toString("hex"));
    const theirs = readPcap(f("gen.pcap")).map((p) => p.data.toString("hex"));
    expect(theirs).toHaveLength(20);
    expect(ours).toEqual(theirs);
  });

  test("--snaplen keeps the first N bytes and the original length", async () => {
    const s = await startSample("-w", f("snap.pcap"), "--snaplen", "64", "udp");
    traffic("--count", "100", "--size", "500");
    await stop(s);
    const pkts = readPcap(f("snap.pcap"));
    expect(pkts).toHaveLength(100);
    for (const p of pkts) expect([p.caplen, p.len]).toEqual([64, 500]);
    const ts = sh(["tshark", "-r", f("snap.pcap"), "-T", "fields", "-e", "frame.cap_len", "-e", "frame.len", "-c", "1"]);
    expect(ts.stdout.trim()).toBe("64\t500");
  });

  test("-w - streams pcap to a pipe; -c stops on its own", async () => {
    const p = Bun.spawn(["sh", "-c", `${XDPTOOL} sample ${DUT} -c 1000 --snaplen 128 -w - | tcpdump -nn -r - 2>/dev/null | wc -l`], { stdout: "pipe", stderr: "pipe", env: { ...process.env } });
    await attached();
    traffic("--count", "5000");
    expect(await p.exited).toBe(0);
    expect((await new Response(p.stdout).text()).trim()).toBe("1000");
    expect(await new Response(p.stderr).text()).toContain("1000 packets captured");
  });

  // The capture file goes out through 2 MiB chunks, a writer thread and direct I/O (output.ts):
  // 300k records of 100-byte frames are ~35 MB, the four-chunk queue wrapping over four times.
  // Sent in bursts that fit the ring, so the test is about the writing, not the machine's speed.
  for (const where of ["disk", "tmpfs", "stdout"]) {
    test(`a capture many times the write buffer arrives whole and in order (${where === "stdout" ? "-w - into a file" : `file on ${where}`})`, async () => {
      const path = where === "tmpfs" ? join("/dev/shm", `xt-sample-${process.pid}.pcap`) : f(`big-${where}.pcap`);
      const frame = Buffer.from(buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", l4: "udp", sport: 1024, dport: 9, srcMac: "02:78:74:00:00:01", dstMac: "02:78:74:00:00:02", frameSize: 100 }));
      try {
        let s: Running;
        if (where === "stdout") {
          const proc = Bun.spawn([XDPTOOL, "sample", DUT, "-w", "-", "udp"], { stdout: Bun.file(path), stderr: "pipe", env: { ...process.env, XDPTOOL_LAB: LAB } });
          started.push(proc);
          let err = "";
          (async () => { for await (const c of proc.stderr as ReadableStream<Uint8Array>) err += Buffer.from(c).toString(); })();
          await attached();
          s = { proc, stderr: () => err, stdout: () => "" };
        } else s = await startSample("-w", path, "udp");
        const xdp0 = ethtoolStats(DUT, DUT).rx_queue_0_xdp_packets;
        for (let i = 0; i < 6; i++) {
          traffic("--count", "50000", "--size", "100");
          await Bun.sleep(100);
        }
        // The kernel's own count of frames XDP ran on: all 300000 reached the sampler's program
        // (plus the odd IPv6 neighbour packet, which the filter leaves out).
        const xdpRan = ethtoolStats(DUT, DUT).rx_queue_0_xdp_packets - xdp0;
        s.proc.kill("SIGINT");
        expect(await s.proc.exited).toBe(0);
        await Bun.sleep(20);
        const seen = Number(/\(of (\d+) seen\)/.exec(s.stderr())?.[1]);
        expect(xdpRan).toBeGreaterThanOrEqual(300000);
        expect(seen).toBeGreaterThanOrEqual(xdpRan);
        expect(s.stderr()).toContain("300000 packets captured, 0 sampled out, 0 lost");
        const pkts = readPcap(path);
        expect(pkts).toHaveLength(300000);
        expect(pkts.every((p) => p.data.equals(frame))).toBe(true);
        // In order: the timestamps never go back (a chunk written out of turn would).
        const b = readFileSync(path);
        let prev = 0n, back = 0;
        for (let p = 24; p < b.length; p += 16 + b.readUInt32LE(p + 8)) {
          const t = BigInt(b.readUInt32LE(p)) * 1_000_000_000n + BigInt(b.readUInt32LE(p + 4));
          if (t < prev) back++;
          prev = t;
        }
        expect(back).toBe(0);
        const ci = sh(["capinfos", "-c", path]);
        expect(warnings(ci.stderr)).toBe("");
        expect(ci.stdout).toMatch(/Number of packets:\s+300 k/);
      } finally {
        rmSync(path, { force: true });
      }
    });
  }

  test("pcapng: tshark reads it with the interface name and drop statistics", async () => {
    const s = await startSample("-w", f("c.pcapng"), "--pcapng", "udp");
    traffic("--count", "300");
    await stop(s);
    const ci = sh(["capinfos", f("c.pcapng")]);
    expect(ci.code).toBe(0);
    expect(warnings(ci.stderr)).toBe("");
    expect(ci.stdout).toMatch(/Number of packets:\s+300/);
    expect(ci.stdout).toContain(`Name = ${DUT}`);
    expect(ci.stdout).toMatch(/Number of stat entries = 1/);
    const ts = sh(["tshark", "-r", f("c.pcapng"), "-T", "fields", "-e", "frame.interface_name", "-c", "1"]);
    expect(ts.stdout.trim()).toBe(DUT);
    expect(warnings(ts.stderr)).toBe("");
  });

  test("without -w: one tcpdump-like line per packet", async () => {
    const s = await startSample();
    traffic("--count", "3", "--proto", "tcp", "--dport", "22");
    // The lines themselves are the signal (a fixed wait would race a slow machine).
    const tcpLines = () => s.stdout().split("\n").filter((l) => l.includes(": TCP"));
    for (let i = 0; i < 400 && tcpLines().length < 3; i++) await Bun.sleep(25);
    s.proc.kill("SIGINT");
    await s.proc.exited;
    await Bun.sleep(20);
    // Ours are the TCP lines: the lab's own IPv6 neighbour and MLD chatter may add a line.
    for (const l of s.stdout().trim().split("\n")) expect(l).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{6} ${DUT} pass `));
    const ours = tcpLines();
    expect(ours).toHaveLength(3);
    for (const l of ours) expect(l).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{6} ${DUT} pass IP 198\\.18\\.0\\.1\\.1024 > 198\\.18\\.0\\.2\\.22: TCP`));
  });
});

test("the one-line form walks IPv6 extension headers (an MLD report behind hop-by-hop options)", () => {
  const f = Buffer.alloc(14 + 40 + 8 + 28);
  f.writeUInt16BE(0x86dd, 12);
  f[14] = 0x60;
  f.writeUInt16BE(36, 18); // payload: 8 (HBH) + 28 (ICMPv6)
  f[21] = 1; // next header 0 = hop-by-hop; hop limit 1
  f.writeUInt16BE(0xfe80, 22);
  f[37] = 1;
  f.writeUInt16BE(0xff02, 38);
  f[53] = 0x16;
  f[54] = 58; // HBH: next header ICMPv6, length 0 (8 bytes)
  f[62] = 143; // MLDv2 report
  expect(formatPacket({ sec: 0, nsec: 0 }, f, 0, f.length, f.length, "if0", 2)).toEndWith(" if0 pass IP6 HBH fe80::1 > ff02::16: ICMP6, length 28");
});
