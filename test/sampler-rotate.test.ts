// sample -C / -G / -W: capture files rotated and named as tcpdump names them. tcpdump itself is
// the oracle for -C and -W: it splits the same packets (read back with -r) into files of the same
// names and the same packet counts; tshark/capinfos read every file.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { DUT, LAB, XDPTOOL, sh, xt } from "./helpers.ts";
import { sampleLab, started, f, startSample, stop, traffic } from "./sampler-helpers.ts";

sampleLab();

/** A fresh directory per case, so a listing is exactly what one command created. */
const fresh = (name: string) => {
  const d = f(name);
  mkdirSync(d);
  return d;
};
/** name → packets, for every file in d (read by capinfos: a file it cannot read fails the test). */
function counts(d: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of readdirSync(d).sort()) {
    const r = sh(["capinfos", "-c", "-M", join(d, n)]);
    expect(r.code).toBe(0);
    out[n] = Number(/Number of packets:\s+(\d+)/.exec(r.stdout)![1]);
  }
  return out;
}

describe("sample -C: by size", () => {
  let live = "";
  test("live: FILE, FILE1, FILE2… each just past N million bytes, every packet in one of them", async () => {
    live = fresh("c");
    const s = await startSample("-w", join(live, "cap.pcap"), "-C", "1", "-c", "40000", "ip");
    traffic("--count", "40000");
    expect(await s.proc.exited).toBe(0);
    const got = counts(live);
    expect(Object.keys(got)).toEqual(["cap.pcap", "cap.pcap1", "cap.pcap2", "cap.pcap3"]);
    expect(Object.values(got).reduce((a, b) => a + b)).toBe(40000);
    for (const n of ["cap.pcap", "cap.pcap1", "cap.pcap2"]) {
      const size = statSync(join(live, n)).size;
      expect(size).toBeGreaterThan(1_000_000);
      expect(size).toBeLessThan(1_000_000 + 16 + 60 + 1); // rotated at the first packet past the size
    }
  });

  test("tcpdump -C 1 splits the same packets into the same names and counts", () => {
    const all = f("c-all.pcap");
    const parts = readdirSync(live).sort().map((n) => join(live, n));
    expect(sh(["mergecap", "-a", "-F", "pcap", "-w", all, ...parts]).code).toBe(0);
    const td = fresh("c-td"), ours = fresh("c-ours");
    expect(sh(["tcpdump", "-Z", "root", "-r", all, "-w", join(td, "cap.pcap"), "-C", "1"]).code).toBe(0);
    expect(xt("sample", "-r", all, "-w", join(ours, "cap.pcap"), "-C", "1").code).toBe(0);
    expect(counts(ours)).toEqual(counts(td));
    expect(counts(ours)).toEqual(counts(live));
  });

  test("-W 3: a ring of three zero-padded names, oldest overwritten, as tcpdump's", () => {
    const all = f("c-all.pcap");
    for (const w of ["3", "11"]) {
      const td = fresh(`w${w}-td`), ours = fresh(`w${w}-ours`);
      expect(sh(["tcpdump", "-Z", "root", "-r", all, "-w", join(td, "r.pcap"), "-C", "1", "-W", w]).code).toBe(0);
      expect(xt("sample", "-r", all, "-w", join(ours, "r.pcap"), "-C", "1", "-W", w).code).toBe(0);
      expect(counts(ours)).toEqual(counts(td));
    }
    expect(Object.keys(counts(f("w3-ours")))).toEqual(["r.pcap0", "r.pcap1", "r.pcap2"]);
    expect(Object.keys(counts(f("w11-ours")))).toEqual(["r.pcap00", "r.pcap01", "r.pcap02", "r.pcap03"]);
  });

  test("--pcapng files rotate too, each a whole section tshark reads, verdicts included", async () => {
    const d = fresh("ng");
    const s = await startSample("-w", join(d, "cap.pcapng"), "--pcapng", "-C", "1", "-c", "20000", "ip");
    traffic("--count", "20000"); // 128-byte blocks: 7813 to a file
    expect(await s.proc.exited).toBe(0);
    const got = counts(d);
    expect(Object.keys(got)).toEqual(["cap.pcapng", "cap.pcapng1", "cap.pcapng2"]);
    expect(Object.values(got).reduce((a, b) => a + b)).toBe(20000);
    const v = sh(["tshark", "-r", join(d, "cap.pcapng1"), "-T", "fields", "-e", "frame.verdict.ebpf_xdp", "-c", "1"]);
    expect(v.stdout.trim()).toBe("2");
  });
});

describe("sample -G: by time", () => {
  /** Seconds since the epoch a file's strftime name says (local time). */
  const nameTime = (n: string) => {
    const m = /(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)/.exec(n)!;
    return new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]).getTime() / 1000;
  };

  test("a new file per period, named by strftime at its start; each packet in the file of its second", async () => {
    const d = fresh("g");
    const s = await startSample("-w", join(d, "g-%Y%m%d-%H%M%S.pcap"), "-G", "1", "ip");
    for (let i = 0; i < 3; i++) {
      await Bun.sleep(1100);
      traffic("--count", "100");
    }
    await stop(s);
    const got = counts(d);
    const names = Object.keys(got);
    expect(names.length).toBeGreaterThanOrEqual(3);
    for (const n of names) expect(n).toMatch(/^g-\d{8}-\d{6}\.pcap$/);
    expect(Object.values(got).reduce((a, b) => a + b)).toBe(300);
    for (const n of names) {
      const times = sh(["tshark", "-r", join(d, n), "-T", "fields", "-e", "frame.time_epoch"]).stdout.trim().split("\n").filter(Boolean).map(Number);
      for (const t of times) {
        expect(t).toBeGreaterThanOrEqual(nameTime(n));
        expect(t).toBeLessThan(nameTime(n) + 3); // within its period (a period starts at its first packet)
      }
    }
  });

  test("-G 1 -W 2: the capture ends by itself after two files", async () => {
    const d = fresh("gw");
    const p = Bun.spawn([XDPTOOL, "sample", DUT, "-w", join(d, "w-%H%M%S.pcap"), "-G", "1", "-W", "2", "ip"], { stdout: "pipe", stderr: "pipe", env: { ...process.env, XDPTOOL_LAB: LAB } });
    started.push(p);
    for (let i = 0; i < 8 && p.exitCode === null; i++) {
      await Bun.sleep(600);
      xt("lab", "traffic", "--count", "10"); // refused once the capture has ended (and detached)
    }
    expect(await p.exited).toBe(0);
    const got = counts(d);
    expect(Object.keys(got)).toHaveLength(2);
    expect(Object.values(got).reduce((a, b) => a + b)).toBeGreaterThan(0);
  });
});
