// xdptool run: frames of a capture through a program with BPF_PROG_TEST_RUN. Verdicts and output
// frames are held against bpftool's `prog run` on the same program and bytes; the output capture
// against tshark; --trace against what the program printed; malformed input against exit 2.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LAB, ROOT, sh, xt } from "./helpers.ts";
import { buildFrame } from "../src/net/packet.ts";
import { writePcapFile } from "../src/sampler/pcap-file.ts";

const dir = mkdtempSync(join(tmpdir(), "xdptool-run-"));
const obj = join(dir, "run.o");
const pins = `/sys/fs/bpf/${LAB}-run-test`;
const inc = ["-I", join(ROOT, "libbpf/out/include"), "-I", `/usr/include/${process.arch === "x64" ? "x86_64" : "aarch64"}-linux-gnu`];
const frames = [
  buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", dport: 53 }),
  buildFrame({ src: "2001:db8::1", dst: "2001:db8::2", l4: "tcp", dport: 80 }),
  buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", l4: "icmp", frameSize: 60 }),
  buildFrame({ src: "198.18.0.7", dst: "198.18.0.2", l4: "tcp", vlans: [5], dport: 443 }),
];
const input = join(dir, "in.pcap");

beforeAll(async () => {
  const cc = sh(["clang", "-g", "-O2", "-target", "bpf", ...inc, "-c", join(ROOT, "test/fixtures/run.bpf.c"), "-o", obj]);
  if (cc.code !== 0) throw new Error(cc.stderr);
  await writePcapFile(input, frames);
  sh(["rm", "-rf", pins]);
  const ld = sh(["bpftool", "prog", "loadall", obj, pins]);
  if (ld.code !== 0) throw new Error(ld.stderr);
});
afterAll(() => {
  sh(["rm", "-rf", pins]);
  rmSync(dir, { recursive: true, force: true });
});

const runJson = (...args: string[]): any[] => {
  const r = xt("run", ...args, "--json");
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l));
};

/** bpftool's verdict and output bytes for one frame through the same program. */
function bpftoolRun(prog: string, frame: Uint8Array): { action: number; out: string } {
  const fin = join(dir, "frame.bin"), fout = join(dir, "frame.out");
  writeFileSync(fin, frame);
  const r = sh(["bpftool", "prog", "run", "pinned", join(pins, prog), "data_in", fin, "data_out", fout]);
  const m = /Return value: (\d+)/.exec(r.stdout + r.stderr);
  if (!m) throw new Error(`bpftool prog run: ${r.stderr}${r.stdout}`);
  return { action: Number(m[1]), out: readFileSync(fout).toString("hex") };
}

describe("run: verdicts and frames are the kernel's", () => {
  for (const prog of ["drop_udp", "swap_macs", "trim"]) {
    test(`${prog}: every frame's verdict and output bytes equal bpftool prog run's`, () => {
      const got = runJson(obj, "--name", prog, "-r", input);
      expect(got.map((r) => r.frame)).toEqual([1, 2, 3, 4]);
      expect(got.map((r) => ({ action: r.action, out: r.data }))).toEqual(frames.map((f) => bpftoolRun(prog, f)));
    });
  }

  test("the verdicts differ by program as written: drop_udp drops UDP only, swap_macs transmits, trim cuts to 14 bytes", () => {
    expect(runJson(obj, "--name", "drop_udp", "-r", input).map((r) => r.verdict)).toEqual(["DROP", "PASS", "PASS", "PASS"]);
    expect(runJson(obj, "--name", "swap_macs", "-r", input).map((r) => r.verdict)).toEqual(["TX", "TX", "TX", "TX"]);
    expect(runJson(obj, "--name", "trim", "-r", input).map((r) => r.len_change)).toEqual(frames.map((f) => 14 - f.length));
  });

  test("embedded programs by name: drop drops every frame, pass passes it unchanged", () => {
    expect(runJson("drop", "-r", input).map((r) => r.verdict)).toEqual(["DROP", "DROP", "DROP", "DROP"]);
    const pass = runJson("pass", "-r", input);
    expect(pass.map((r) => r.data)).toEqual(frames.map((f) => Buffer.from(f).toString("hex")));
  });

  test("text output: number, verdict, length change and the frame's one-line summary", () => {
    const r = xt("run", obj, "--name", "trim", "-r", input);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^\s+1\s+PASS\s+-28\s+02:78:74:00:00:01 > 02:78:74:00:00:02, ethertype 0x0800, length 14$/);
    expect(xt("run", obj, "--name", "drop_udp", "-r", input).stdout.split("\n")[3]).toMatch(/^\s+4\s+PASS\s+0\s+vlan 5 IP 198.18.0.7.1024 > 198.18.0.2.443: TCP, length 20$/);
    expect(r.stderr).toContain("4 frames through trim: 4 PASS");
  });
});

describe("run -w: the frames as the program left them", () => {
  test("tshark reads the swapped MACs, and the verdict as a comment and as the XDP verdict", () => {
    const out = join(dir, "out.pcapng");
    expect(xt("run", obj, "--name", "swap_macs", "-r", input, "-w", out).code).toBe(0);
    const t = sh(["tshark", "-r", out, "-T", "fields", "-E", "separator=|", "-e", "eth.src", "-e", "eth.dst", "-e", "frame.comment", "-e", "frame.verdict.ebpf_xdp"]);
    expect(t.code).toBe(0);
    expect(t.stdout.trim().split("\n")).toEqual(frames.map((_, i) => `02:78:74:00:00:02|02:78:74:00:00:01|frame ${i + 1}: XDP_TX|3`));
  });

  test("its own output and tcpdump's and editcap's rewrites of the input read back to the same frames", () => {
    const once = join(dir, "once.pcapng"), twice = join(dir, "twice.pcapng");
    xt("run", obj, "--name", "swap_macs", "-r", input, "-w", once);
    xt("run", obj, "--name", "swap_macs", "-r", once, "-w", twice);
    const viaTcpdump = join(dir, "tcpdump.pcap"), viaEditcap = join(dir, "editcap.pcapng");
    expect(sh(["tcpdump", "-r", twice, "-w", viaTcpdump]).code).toBe(0);
    expect(sh(["editcap", "-F", "pcapng", viaTcpdump, viaEditcap]).code).toBe(0);
    const want = frames.map((f) => Buffer.from(f).toString("hex"));
    for (const f of [twice, viaTcpdump, viaEditcap]) expect(runJson("pass", "-r", f).map((r) => r.data)).toEqual(want);
  });
});

describe("run: the reader", () => {
  test("every truncation and 2000 random corruptions of a pcap and a pcapng read as frames or as one UsageError, never a crash", async () => {
    const { readCapture } = await import("../src/net/capture-read.ts");
    const { UsageError } = await import("../src/errors.ts");
    const ng = join(dir, "fuzz.pcapng");
    expect(xt("run", "pass", "-r", input, "-w", ng).code).toBe(0);
    let seed = 0x5eed;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    for (const file of [input, ng]) {
      const good = readFileSync(file);
      const cases = [...Array.from({ length: good.length }, (_, n) => good.subarray(0, n))];
      for (let i = 0; i < 1000; i++) {
        const b = Buffer.from(good);
        for (let k = 1 + rnd(4); k > 0; k--) b[rnd(b.length)] = rnd(256);
        cases.push(b);
      }
      for (const c of cases) {
        try {
          const frames = readCapture(c, "f");
          for (const f of frames) expect(f.data.length).toBeLessThanOrEqual(c.length);
        } catch (e) {
          if (!(e instanceof UsageError) || e.message.includes("\n")) throw e;
        }
      }
      expect(readCapture(good, "f").length).toBe(frames.length);
    }
  });

  test("time stamps survive pcap (ns), tcpdump's pcap (µs), editcap's pcapng and a big-endian pcap into -w's pcapng", () => {
    const viaTcpdump = join(dir, "ts.pcap"), viaEditcap = join(dir, "ts.pcapng"), big = join(dir, "big-endian.pcap");
    expect(sh(["tcpdump", "-r", input, "-w", viaTcpdump]).code).toBe(0);
    expect(sh(["editcap", "-F", "pcapng", viaTcpdump, viaEditcap]).code).toBe(0);
    // The same capture with every header field in big-endian order (as written on a big-endian host).
    const le = readFileSync(viaTcpdump), be = Buffer.from(le);
    be.writeUInt32BE(le.readUInt32LE(0), 0);
    be.writeUInt16BE(le.readUInt16LE(4), 4);
    be.writeUInt16BE(le.readUInt16LE(6), 6);
    for (const o of [8, 12, 16, 20]) be.writeUInt32BE(le.readUInt32LE(o), o);
    for (let o = 24; o < le.length; o += 16 + le.readUInt32LE(o + 8)) for (const f of [0, 4, 8, 12]) be.writeUInt32BE(le.readUInt32LE(o + f), o + f);
    writeFileSync(big, be);
    const want = frames.map((_, i) => `${1_700_000_000 + i}.000000000`);
    for (const f of [input, viaTcpdump, viaEditcap, big]) {
      const out = join(dir, "stamps.pcapng");
      expect(xt("run", "pass", "-r", f, "-w", out).code).toBe(0);
      const t = sh(["tshark", "-r", out, "-T", "fields", "-e", "frame.time_epoch"]);
      expect([f, t.stdout.trim().split("\n")]).toEqual([f, want]);
      expect(runJson("pass", "-r", f).map((r) => r.data)).toEqual(frames.map((x) => Buffer.from(x).toString("hex")));
    }
  });
});

describe("run --trace and --map", () => {
  test("each frame's bpf_printk line is printed under that frame", () => {
    const r = xt("run", obj, "--name", "printk", "-r", input, "--trace");
    expect(r.code).toBe(0);
    const want = frames.flatMap((f, i) => [expect.stringMatching(new RegExp(`^\\s+${i + 1}\\s+${i % 2 ? "DROP" : "PASS"}\\s`)), `        printk: frame ${i + 1} len ${f.length}`]);
    expect(r.stdout.trimEnd().split("\n")).toEqual(want);
    expect(runJson(obj, "--name", "printk", "-r", input, "--trace").map((x) => x.trace)).toEqual(frames.map((f, i) => [`frame ${i + 1} len ${f.length}`]));
  });

  test("--map NAME=FILE seeds a map before the frames, --map NAME shows it after", () => {
    const seed = join(dir, "verdict.json");
    writeFileSync(seed, JSON.stringify([{ key: 0, value: 1 }]));
    const out = runJson(obj, "--name", "from_map", "-r", input, "--map", `verdict=${seed}`, "--map", "lengths");
    expect(out.slice(0, 4).map((r) => r.verdict)).toEqual(["DROP", "DROP", "DROP", "DROP"]);
    const lengths = out.find((r) => r.map === "lengths").entries.map((e: any) => [e.key, e.value]).sort();
    expect(lengths).toEqual(frames.map((f) => [f.length, 1]).sort());
    expect(runJson(obj, "--name", "printk", "-r", input, "--map", ".bss").pop()).toEqual({ map: ".bss", entries: [{ key: "00 00 00 00", value: { seen: 4, submitted: 0 } }] });
  });

  test("--map RINGBUF: each frame's records under it, none under frames that submitted none", () => {
    const le = (...v: number[]) => Buffer.from(new Uint32Array(v).buffer).toString("hex");
    const out = runJson(obj, "--name", "to_ring", "-r", input, "--map", "events");
    expect(out.map((r) => r.records.events)).toEqual([[le(42, 0)], [], [le(60, 1)], []]);
    const text = xt("run", obj, "--name", "to_ring", "-r", input, "--map", "events").stdout.trimEnd().split("\n");
    expect(text.filter((l) => l.startsWith("        events: "))).toEqual([`        events: ${le(42, 0)}`, `        events: ${le(60, 1)}`]);
    expect(text[1]).toBe(`        events: ${le(42, 0)}`);
    const seeded = xt("run", obj, "--name", "to_ring", "-r", input, "--map", `events=${input}`);
    expect([seeded.code, seeded.stderr.trim()]).toEqual([2, `xdptool: --map events=${input}: events is a ring buffer; it is read, not filled (--map events)`]);
  });
});

describe("run: bad input is one line and exit 2", () => {
  const oneLine = (r: { code: number; stderr: string; stdout: string }, re: RegExp) => {
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(re);
  };
  test("a file that is not a capture, one cut short, a missing one", () => {
    const junk = join(dir, "junk.pcap"), cut = join(dir, "cut.pcap");
    writeFileSync(junk, "hello, this is not a capture");
    writeFileSync(cut, readFileSync(input).subarray(0, 24 + 16 + 10));
    oneLine(xt("run", "pass", "-r", junk), /junk.pcap is not a pcap or pcapng capture \(it starts with 0x68656c6c\)/);
    oneLine(xt("run", "pass", "-r", cut), /cut.pcap: the capture ends in the middle of packet 1 at byte 24 \(42 bytes announced, 10 left\)/);
    oneLine(xt("run", "pass", "-r", join(dir, "nope.pcap")), /cannot read .*nope.pcap: no such file/);
    oneLine(xt("run", "pass"), /needs -r FILE/);
  });

  test("an object without an XDP program, a file that is not an object, a missing object", () => {
    const tc = join(dir, "tc.o");
    writeFileSync(join(dir, "tc.bpf.c"), '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nSEC("tc") int cls(struct __sk_buff *skb) { return 0; }\nchar LICENSE[] SEC("license") = "GPL";\n');
    expect(sh(["clang", "-g", "-O2", "-target", "bpf", ...inc, "-c", join(dir, "tc.bpf.c"), "-o", tc]).code).toBe(0);
    oneLine(xt("run", tc, "-r", input), /no XDP program in .*tc.o \(it has: cls \(section tc\)\)/);
    oneLine(xt("run", input, "-r", input), /is not a BPF object file/);
    oneLine(xt("run", join(dir, "none.o"), "-r", input), /no such file/);
    oneLine(xt("run", obj, "-r", input), /several XDP programs .*choose one with --section or --name/);
  });

  test("a frame shorter than an Ethernet header is refused before any frame runs", async () => {
    const f = join(dir, "short.pcap");
    await writePcapFile(f, [frames[0], new Uint8Array(10)]);
    oneLine(xt("run", "pass", "-r", f), /short.pcap: frame 2 is 10 bytes; an XDP program is run on at least an Ethernet header \(14 bytes\)/);
  });

  test("a pcap of another link type is refused", () => {
    const raw = Buffer.from(readFileSync(input));
    raw.writeUInt32LE(101, 20); // LINKTYPE_RAW
    const f = join(dir, "raw.pcap");
    writeFileSync(f, raw);
    oneLine(xt("run", "pass", "-r", f), /raw.pcap: link type 101, not Ethernet \(1\)/);
  });
});
