// sample: XDP → pcap. Real peers read what we write (capinfos, tshark, tcpdump) and real traffic
// (LIVE_FRAMES frames built by src/net/packet.ts, pings through the stack) is what we capture.
import { formatPacket } from "../src/sampler/format.ts";
import { CBPF_MAX, CFG_LAYOUT, HDR_LAYOUT, MODE, SAMPLE_STATS } from "../src/sampler/layout.ts";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { DUT, GEN, LAB, XDPTOOL, compileAndRun, ethtoolStats, freshLab, inNs, sh, xt, xtOk } from "./helpers.ts";
import { buildFrame } from "../src/net/packet.ts";

const dir = mkdtempSync(join(tmpdir(), "xt-sample-"));
const f = (name: string) => join(dir, name);

const started: ReturnType<typeof Bun.spawn>[] = [];
beforeAll(() => freshLab());
// A failed test must not leave its sampler running (it would hold the DUT for the next test).
afterEach(async () => {
  for (const p of started.splice(0)) if (p.exitCode === null) { p.kill("SIGKILL"); await p.exited; }
});
afterAll(() => xt("lab", "down"));

interface Running {
  proc: ReturnType<typeof Bun.spawn>;
  stderr: () => string;
  stdout: () => string;
}

/** Start `xdptool sample DUT …` and wait until the sampler is attached. */
async function startSample(...args: string[]): Promise<Running> {
  const proc = Bun.spawn([XDPTOOL, "sample", DUT, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, XDPTOOL_LAB: LAB } });
  started.push(proc);
  let err = "", out = "";
  (async () => { for await (const c of proc.stderr as ReadableStream<Uint8Array>) err += Buffer.from(c).toString(); })();
  (async () => { for await (const c of proc.stdout as ReadableStream<Uint8Array>) out += Buffer.from(c).toString(); })();
  for (let i = 0; i < 200 && !err.includes("xdptool: sampling") && proc.exitCode === null; i++) await Bun.sleep(25);
  if (!err.includes("xdptool: sampling")) throw new Error(`sampler did not start: ${err}`);
  return { proc, stderr: () => err, stdout: () => out };
}

/** Stop it like Ctrl-C; returns its final counts (--json: stdout with -w FILE, else stderr). */
async function stop(r: Running, signal: NodeJS.Signals = "SIGINT"): Promise<any> {
  r.proc.kill(signal);
  const code = await r.proc.exited;
  await Bun.sleep(20);
  expect(code).toBe(0);
  const line = (r.stdout() + r.stderr()).split("\n").find((l) => l.startsWith("{"));
  return line ? JSON.parse(line) : null;
}

/** Wait until a sampler started by someone else (a shell pipeline) is on the DUT. */
async function attached(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (JSON.parse(inNs(DUT, ["ip", "-j", "link", "show", DUT]).stdout)[0].xdp?.prog?.name === "sampler") return;
    await Bun.sleep(25);
  }
  throw new Error("sampler did not attach");
}

function traffic(...args: string[]): void {
  xtOk("lab", "traffic", ...args);
}

/** The packets of a pcap file (either timestamp resolution). */
function readPcap(path: string): { caplen: number; len: number; data: Buffer }[] {
  const b = readFileSync(path);
  expect([0xa1b2c3d4, 0xa1b23c4d]).toContain(b.readUInt32LE(0));
  const out = [];
  for (let p = 24; p < b.length; ) {
    const caplen = b.readUInt32LE(p + 8), len = b.readUInt32LE(p + 12);
    out.push({ caplen, len, data: b.subarray(p + 16, p + 16 + caplen) });
    p += 16 + caplen;
  }
  return out;
}

/** The counters in a pcapng file's interface statistics block (isb_ifrecv, isb_ifdrop, isb_filteraccept). */
function isb(b: Buffer): Record<string, number> {
  for (let p = 0; p < b.length; p += b.readUInt32LE(p + 4)) {
    if (b.readUInt32LE(p) !== 5) continue;
    const out: Record<string, number> = {};
    const names: Record<number, string> = { 4: "ifrecv", 5: "ifdrop", 6: "filteraccept" };
    for (let o = p + 20; b.readUInt16LE(o) !== 0; o += 4 + ((b.readUInt16LE(o + 2) + 3) & ~3)) {
      const name = names[b.readUInt16LE(o)];
      if (name) out[name] = Number(b.readBigUInt64LE(o + 4));
    }
    return out;
  }
  throw new Error("no interface statistics block");
}

/** tshark/capinfos print this as root; anything else on stderr is a warning about our file. */
const warnings = (s: string) => s.split("\n").filter((l) => l && !l.includes("Running as user")).join("\n");

function addsUp(c: any): void {
  expect(c.captured + c.sampledOut + c.lost + c.filtered + c.overLimit).toBe(c.seen);
  expect(c.submitted + c.lost + c.sampledOut + c.kernelFiltered).toBe(c.seen);
}

describe("sample: shared layout", () => {
  test("struct xt_sample_hdr and xt_sample_cfg match what the TypeScript side reads", () => {
    const out = compileAndRun(`
      #include <stdio.h>
      #include <stddef.h>
      #include <linux/types.h>
      #include "${join(import.meta.dir, "../bpf/include/xdptool.h")}"
      #define F(s, f) printf("%s %zu\\n", #s "." #f, offsetof(struct s, f))
      int main() {
        printf("hdr.size %zu\\n", sizeof(struct xt_sample_hdr));
        F(xt_sample_hdr, tstamp); F(xt_sample_hdr, orig_len); F(xt_sample_hdr, cap_len); F(xt_sample_hdr, action);
        printf("cfg.size %zu\\n", sizeof(struct xt_sample_cfg));
        F(xt_sample_cfg, watermark); F(xt_sample_cfg, rate); F(xt_sample_cfg, snaplen); F(xt_sample_cfg, mode);
        F(xt_sample_cfg, drop); F(xt_sample_cfg, kfilter); F(xt_sample_cfg, actions);
        printf("mode.perf %d\\nmode.ringbuf %d\\n", XT_SAMPLE_MODE_PERF, XT_SAMPLE_MODE_RINGBUF);
        printf("stats %d %d %d %d %d %d\\n", XT_SAMPLE_SEEN, XT_SAMPLE_SAMPLED_OUT, XT_SAMPLE_SUBMITTED, XT_SAMPLE_LOST, XT_SAMPLE_FILTERED, XT_SAMPLE_STAT_MAX);
        printf("cbpf %zu %zu %d\\n", sizeof(struct xt_cbpf_insn), sizeof(struct xt_cbpf_prog), XT_CBPF_MAX);
      }`);
    const ts = [
      `hdr.size ${HDR_LAYOUT.size}`, `xt_sample_hdr.tstamp ${HDR_LAYOUT.tstamp}`, `xt_sample_hdr.orig_len ${HDR_LAYOUT.origLen}`,
      `xt_sample_hdr.cap_len ${HDR_LAYOUT.capLen}`, `xt_sample_hdr.action ${HDR_LAYOUT.action}`, `cfg.size ${CFG_LAYOUT.size}`,
      ...(["watermark", "rate", "snaplen", "mode", "drop", "kfilter", "actions"] as const).map((f) => `xt_sample_cfg.${f} ${CFG_LAYOUT[f]}`),
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
      const s = await startSample("-w", f(`${mode}.pcap`), "--mode", mode, "--json", "udp");
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
    await Bun.sleep(300);
    s.proc.kill("SIGINT");
    await s.proc.exited;
    await Bun.sleep(20);
    const lines = s.stdout().trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{6} ${DUT} pass IP 198\\.18\\.0\\.1\\.1024 > 198\\.18\\.0\\.2\\.22: TCP`));
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

describe("sample: filters match exactly what tcpdump matches", () => {
  const mix = () => {
    traffic("--count", "50");
    traffic("--count", "40", "--dns", "example.test", "--src", "198.18.7.7", "--size", "100");
    traffic("--count", "30", "--dns", "example.test", "--src", "198.19.1.1", "--size", "100");
    traffic("--count", "20", "--proto", "tcp", "--dport", "22");
    traffic("--count", "10", "--src", "2001:db8::1", "--proto", "icmp", "--size", "100");
    traffic("--count", "10", "--vlan", "100");
  };
  let all: string[] = [];
  test("unfiltered reference capture", async () => {
    const s = await startSample("-w", f("all.pcap"), "--json");
    mix();
    const c = await stop(s);
    expect(c.captured).toBeGreaterThanOrEqual(160);
    all = readPcap(f("all.pcap")).map((p) => p.data.toString("hex"));
  });
  const exprs = ["udp port 53 and src net 198.18.0.0/16", "tcp or ip6", "vlan 100", "udp[0:2] = 1024 and not port 53"];
  for (const [expr, at] of exprs.flatMap((e) => [[e, "kernel"], [e, "user"]])) {
    test(`'${expr}' in ${at === "kernel" ? "the kernel" : "user space"}`, async () => {
      const name = f(`flt-${at}-${expr.replace(/\W+/g, "_")}.pcap`);
      const s = await startSample("-w", name, "--json", "--filter-at", at, expr);
      mix();
      const c = await stop(s);
      const want = sh(["sh", "-c", `tcpdump -r ${f("all.pcap")} -w - '${expr}' 2>/dev/null > ${name}.ref`]);
      expect(want.code).toBe(0);
      // Compare only the frames we sent (unicast to the DUT): the kernel adds an IPv6 router
      // solicitation or MLD report of its own now and then, in one run and not the other.
      const sent = (hex: string[]) => hex.filter((h) => h.startsWith("027874000002"));
      const ref = sent(readPcap(`${name}.ref`).map((p) => p.data.toString("hex")));
      expect(ref.length).toBeGreaterThan(0);
      expect(ref.length).toBeLessThan(sent(all).length);
      const ours = readPcap(name).map((p) => p.data.toString("hex"));
      expect(sent(ours)).toEqual(ref);
      expect(c.captured).toBe(ours.length);
      expect(c.filtered).toBe(c.seen - ours.length);
      expect(c.filterAt).toBe(at);
      // In the kernel, rejected packets are never copied: none reach user space to be filtered there.
      expect(c.kernelFiltered).toBe(at === "kernel" ? c.filtered : 0);
      addsUp(c);
    });
  }
});

describe("sample: rate and loss accounting", () => {
  for (const rate of [10, 100]) {
    test(`--rate ${rate} over 1M packets keeps 1/${rate} within 1%, and the counts add up`, async () => {
      const s = await startSample("-w", f(`rate${rate}.pcap`), "--rate", String(rate), "--drop-after-sample", "--json", "--snaplen", "64");
      traffic("--count", "1000000");
      const c = await stop(s);
      // The kernel may add a stray packet of its own (IPv6 MLD, router solicitation): seen ≥ sent.
      expect(c.seen).toBeGreaterThanOrEqual(1_000_000);
      const want = 1_000_000 / rate;
      expect(Math.abs(c.captured + c.lost - want)).toBeLessThan(want / 100);
      addsUp(c);
    });
  }

  for (const mode of ["perf", "ringbuf"]) {
    test(`${mode}: a reader that falls behind loses packets in the kernel, and says exactly how many`, async () => {
      // Nobody reads our stdout until the traffic is over: the writer stalls on a full pipe, the
      // 1 MiB kernel buffer fills, and further submits fail. Deterministic, no timing involved.
      const ng = mode === "perf"; // perf writes pcapng, whose statistics block must carry the loss
      const p = Bun.spawn([XDPTOOL, "sample", DUT, "-w", "-", "--json", "--buffer", "1", "--mode", mode, "--snaplen", "64", ...(ng ? ["--pcapng"] : [])], { stdout: "pipe", stderr: "pipe", env: { ...process.env, XDPTOOL_LAB: LAB } });
      started.push(p);
      await attached();
      traffic("--count", "200000");
      const reading = new Response(p.stdout).arrayBuffer();
      await Bun.sleep(200);
      p.kill("SIGINT");
      expect(await p.exited).toBe(0);
      const c = JSON.parse((await new Response(p.stderr).text()).split("\n").find((l) => l.startsWith("{"))!);
      const file = f(`behind-${mode}.pcap`);
      require("node:fs").writeFileSync(file, Buffer.from(await reading));
      expect(c.seen).toBeGreaterThanOrEqual(200_000);
      expect(c.lost).toBeGreaterThan(0);
      addsUp(c);
      if (!ng) return expect(readPcap(file)).toHaveLength(c.captured);
      const ci = sh(["capinfos", "-c", "-M", file]);
      expect(ci.stdout).toMatch(new RegExp(`Number of packets:\\s+${c.captured}\\b`));
      expect(isb(readFileSync(file))).toEqual({ ifrecv: c.seen, ifdrop: c.lost, filteraccept: c.captured });
    });
  }
});

describe("sample: lifecycle and refusals", () => {
  test("SIGTERM flushes a valid file; kill -9 leaves no program and no pin behind", async () => {
    const s = await startSample("-w", f("term.pcap"), "--json", "udp");
    traffic("--count", "777");
    const c = await stop(s, "SIGTERM");
    expect(readPcap(f("term.pcap"))).toHaveLength(777);
    expect(c.captured).toBe(777);
    const k = await startSample("-w", f("kill.pcap"));
    expect(JSON.parse(inNs(DUT, ["ip", "-j", "link", "show", DUT]).stdout)[0].xdp.prog.name).toBe("sampler");
    k.proc.kill("SIGKILL");
    await k.proc.exited;
    await Bun.sleep(100);
    expect(JSON.parse(inNs(DUT, ["ip", "-j", "link", "show", DUT]).stdout)[0].xdp).toBeUndefined();
    expect(existsSync(`/sys/fs/bpf/xdptool/${DUT}`)).toBe(false);
  });

  test("--duration stops on its own", () => {
    const r = xt("sample", DUT, "-w", f("dur.pcap"), "--duration", "1");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\d+ packets captured, 0 sampled out, 0 lost in kernel buffers, 0 filtered/);
  });

  test("an interface running another program is refused, and nothing is created", () => {
    xtOk("load", DUT, "hello");
    const r = xt("sample", DUT, "-w", f("busy.pcap"));
    xtOk("unload", DUT);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${DUT} runs xdptool's "hello" program, which has no sampling stage`);
    expect(existsSync(f("busy.pcap"))).toBe(false);
  });

  test("the filter may be unquoted words, as with tcpdump", async () => {
    const s = await startSample("-w", f("words.pcap"), "--json", "udp", "and", "dst", "port", "9");
    traffic("--count", "4", "--proto", "tcp", "--dport", "9");
    traffic("--count", "6");
    const c = await stop(s);
    expect(readPcap(f("words.pcap"))).toHaveLength(6);
    expect(c.captured).toBe(6);
  });

  test("a large --buffer says it is being prepared, then captures every packet", async () => {
    const s = await startSample("-w", f("big-buffer.pcap"), "--buffer", "64", "udp");
    expect(s.stderr().split("\n")[0]).toBe("xdptool: preparing 64 MiB of capture buffers (every page is touched before the capture starts, ~0.15 s per 16 MiB)");
    traffic("--count", "1000");
    await stop(s);
    expect(readPcap(f("big-buffer.pcap"))).toHaveLength(1000);
  });

  test("a full disk stops the capture with an error after the counts, keeps what was written, detaches", async () => {
    const mnt = mkdtempSync(join(tmpdir(), "xt-full-"));
    expect(sh(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt]).code).toBe(0);
    try {
      const s = await startSample("-w", join(mnt, "x.pcap"), "udp");
      traffic("--count", "60000", "--size", "100"); // ~7 MB of capture for 2 MB of room
      expect(await s.proc.exited).toBe(1);
      const lines = s.stderr().trim().split("\n");
      expect(lines.at(-2)).toMatch(/^xdptool: \d+ packets captured/);
      expect(lines.at(-1)).toContain(`write ${join(mnt, "x.pcap")}: ENOSPC`);
      const kept = sh(["capinfos", "-c", "-M", join(mnt, "x.pcap")]).stdout;
      expect(Number(/Number of packets:\s+(\d+)/.exec(kept)?.[1] ?? 0)).toBeGreaterThan(10000);
      expect(JSON.parse(inNs(DUT, ["ip", "-j", "link", "show", DUT]).stdout)[0].xdp).toBeUndefined();
    } finally {
      sh(["umount", mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });

  test("bad input: exit 2, one line", () => {
    const cases: [string[], string][] = [
      [["-w", "/nonexistent-dir/x.pcap"], "cannot write"],
      [["udp port 53 and"], "syntax error"],
      [["udp", "port"], 'bad filter "udp port"'], // the words after the interface are one expression
      [["--rate", "0"], "--rate"],
      [["--snaplen", "0"], "--snaplen"],
      [["--mode", "pcap"], "--mode"],
      [["--action", "drop", "-w", f("d.pcap")], "--action selects by the verdict of other stages"],
      [["--action", "dropped", "-w", f("d.pcap")], "--action must be"],
    ];
    for (const [args, msg] of cases) {
      const r = xt("sample", DUT, ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(msg);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    const r = xt("sample", "nosuch0", "-w", f("n.pcap"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no interface "nosuch0"');
    expect(existsSync(f("n.pcap"))).toBe(false);
  });
});
