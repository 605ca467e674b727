// sample, continued (sampler.test.ts has the layout and what we write): filters against tcpdump's
// own, rate and loss accounting, lifecycle and refusals.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { DUT, LAB, XDPTOOL, inNs, sh, xt, xtOk } from "./helpers.ts";

import { sampleLab, started, dir, f, startSample, stop, attached, traffic, readPcap, isb, addsUp } from "./sampler-helpers.ts";

sampleLab();

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
      const p = Bun.spawn([XDPTOOL, "sample", DUT, "-w", "-", "--json", "--buffer", "1", "--transport", mode, "--snaplen", "64", ...(ng ? ["--pcapng"] : [])], { stdout: "pipe", stderr: "pipe", env: { ...process.env, XDPTOOL_LAB: LAB } });
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
    // The kernel lets go of the link when the killed process's files are closed: wait for that, not a time.
    const xdp = () => JSON.parse(inNs(DUT, ["ip", "-j", "link", "show", DUT]).stdout)[0].xdp;
    for (let i = 0; i < 200 && xdp() !== undefined; i++) await Bun.sleep(25);
    expect(xdp()).toBeUndefined();
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
      [["--snaplen", "262145"], "--snaplen"],
      [["--transport", "pcap"], "--transport"],
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
