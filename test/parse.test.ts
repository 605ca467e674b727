// parsing.h: IPv6 extension-header chains as long as Linux accepts them, and the l4_unknown verdict
// (fail closed) for what cannot be read — through BPF_PROG_TEST_RUN on a fixture that returns the
// parse, and live in the lab through `xdptool stats`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DUT, GEN, ROOT, freshLab, json, sh, xt, xtOk } from "./helpers.ts";
import { chainFrame, type ChainSpec } from "./ext-chain.ts";
import { BpfObject } from "../src/ffi/object.ts";
import { testRun } from "../src/ffi/prog.ts";
import { resolveIface } from "../src/ffi/netns.ts";
import { deliverFrames } from "../src/lab/traffic.ts";
import { buildFrame } from "../src/net/packet.ts";
import { walkFrame } from "../src/net/frame.ts";

// enum xt_l4_unknown (bpf/include/xdptool.h)
const NONE = 0, IP_CUT = 1, EXT_CUT = 2, PORTS_CUT = 3, FRAG_CUT = 4;
let fd = -1;

beforeAll(() => {
  const obj = join(mkdtempSync(join(tmpdir(), "xt-parse-")), "parse.o");
  const cc = sh(["clang", "-g", "-O2", "-target", "bpf", "-I", join(ROOT, "libbpf/out/include"), "-I", `/usr/include/${process.arch === "x64" ? "x86_64" : "aarch64"}-linux-gnu`, "-c", join(ROOT, "test/fixtures/parse.bpf.c"), "-o", obj]);
  if (cc.code !== 0) throw new Error(cc.stderr);
  const o = BpfObject.open(readFileSync(obj), "parse");
  o.load();
  fd = o.progFd(o.programs()[0]);
});

function parse(f: Uint8Array) {
  const r = testRun(fd, { data: f }).retval >>> 0;
  const bpf = { unknown: r >>> 28, fragment: (r >> 26) & 3, truncated: (r >> 24) & 1, proto: (r >> 16) & 0xff, dport: r & 0xffff };
  // src/net/frame.ts (what `sample` prints from and the blacklist oracle judges from) must read
  // every frame here as parsing.h does. One difference by design: an IP header too short to read
  // is "no IP" to the walk (nothing to judge on L3), IP_CUT to the program.
  const w = walkFrame(f);
  const noIp = w.ip === null && bpf.unknown === IP_CUT;
  expect({ cut: w.l4Unknown || noIp, fragment: w.fragment, proto: w.ip ? w.proto : bpf.proto, dport: w.dport ?? 0 })
    .toEqual({ cut: bpf.unknown !== NONE, fragment: bpf.fragment, proto: bpf.proto, dport: bpf.dport });
  return bpf;
}
const dst = (n: number) => Array(n).fill(60);

describe("extension-header chains", () => {
  test.each([0, 1, 2, 3, 6, 7, 10, 16, 100, 180])("TCP SYN to port 22 behind %d Destination Options headers: TCP, port 22", (n) => {
    expect(parse(chainFrame({ exts: dst(n) }))).toEqual({ unknown: NONE, fragment: 0, truncated: 0, proto: 6, dport: 22 });
  });

  test("every kind of header, mixed, 20 long (hop-by-hop first, routing, AH, an atomic fragment): UDP port 53", () => {
    const exts = [0, 43, 51, 44, ...dst(6), 43, 51, ...dst(8)];
    expect(parse(chainFrame({ exts, l4: "udp", dport: 53 }))).toEqual({ unknown: NONE, fragment: 0, truncated: 0, proto: 17, dport: 53 });
  });

  test("a chain that runs past the frame is flagged EXT_CUT, wherever it is cut", () => {
    for (const n of [1, 2, 3, 7, 16]) {
      const whole = chainFrame({ exts: dst(n) });
      for (const cut of [54 + 3, 54 + 8 * n - 5]) expect(parse(whole.subarray(0, cut)), `${n} headers, ${cut} bytes`).toMatchObject({ unknown: EXT_CUT, truncated: 1, dport: 0 });
    }
  });

  test("the IPv6 payload length ends the chain, not the frame: padding after it is never read as a header", () => {
    const f = chainFrame({ exts: dst(7) });
    const padded = Uint8Array.from([...f, ...Array(40).fill(60)]); // trailing bytes that look like headers
    const short = chainFrame({ exts: dst(7), payloadLen: 56 + 2 }); // claims 2 bytes of TCP
    expect(parse(padded)).toMatchObject({ unknown: NONE, dport: 22 });
    expect(parse(short)).toMatchObject({ unknown: PORTS_CUT, proto: 6, dport: 0 });
    expect(parse(chainFrame({ exts: dst(7), payloadLen: 50 }))).toMatchObject({ unknown: EXT_CUT });
  });

  test("TCP cut inside its ports: PORTS_CUT", () => {
    for (const n of [0, 7]) expect(parse(chainFrame({ exts: dst(n) }).subarray(0, 54 + 8 * n + 3))).toMatchObject({ unknown: PORTS_CUT, proto: 6, dport: 0 });
  });

  test("a first fragment whose headers stop before L4 (RFC 8200 §4.5): FRAG_CUT; a later fragment: fragment 2, not undecidable", () => {
    const first = chainFrame({ exts: [44, ...dst(7)], more: true });
    expect(parse(first)).toEqual({ unknown: NONE, fragment: 1, truncated: 0, proto: 6, dport: 22 });
    expect(parse(chainFrame({ exts: [44, ...dst(7)], more: true, payloadLen: 8 + 40 }))).toMatchObject({ unknown: FRAG_CUT, fragment: 1 });
    expect(parse(chainFrame({ exts: [44, ...dst(7)], more: true, payloadLen: 8 + 56 + 2 }))).toMatchObject({ unknown: FRAG_CUT, fragment: 1, proto: 6 });
    expect(parse(chainFrame({ exts: [...dst(3), 44, ...dst(4)], fragOffset: 10 }))).toEqual({ unknown: NONE, fragment: 2, truncated: 0, proto: 60, dport: 0 });
  });

  test("IPv4: header cut short, options past the packet, ports cut, Ethernet padding not read as ports", () => {
    const syn = buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", l4: "tcp", sport: 40000, dport: 22 });
    expect(parse(syn)).toMatchObject({ unknown: NONE, proto: 6, dport: 22 });
    expect(parse(syn.subarray(0, 14 + 12))).toMatchObject({ unknown: IP_CUT, truncated: 1 });
    expect(parse(syn.subarray(0, 14 + 20 + 3))).toMatchObject({ unknown: PORTS_CUT, proto: 6 });
    const opts = Uint8Array.from(syn);
    opts[14] = 0x4f; // IHL 15: 60 bytes of header in a 40-byte packet
    expect(parse(opts)).toMatchObject({ unknown: IP_CUT });
    const bare = Uint8Array.from([...syn.subarray(0, 34), ...Array(26).fill(0x55)]); // IP header only, padded to 60
    bare[16] = 0; bare[17] = 20; // total length 20
    expect(parse(bare)).toMatchObject({ unknown: PORTS_CUT, proto: 6, dport: 0 });
    const frag = Uint8Array.from(syn);
    frag[20] = 0x00; frag[21] = 0x10; // offset 16 bytes: a later fragment
    expect(parse(frag)).toMatchObject({ unknown: NONE, fragment: 2, dport: 0 });
  });
});

describe("live: xdptool stats counts undecidable packets under their reason", () => {
  beforeAll(() => {
    freshLab();
    xtOk("load", DUT, "hello");
  });
  afterAll(() => xt("unload", DUT));

  test("SYNs behind 0, 6, 7, 10, 16 headers count as TCP; cut chains and a bare first fragment as undecidable", () => {
    const stats = () => json<any>("stats", DUT, "--interval", "0.1").interfaces[DUT];
    // resolveIface enters the generator's namespace; a command run since may have left it.
    const send = (f: Uint8Array) => deliverFrames(GEN, resolveIface(`${GEN}/${GEN}`).ifindex, f, N);
    const N = 100;
    const before = stats();
    for (const n of [0, 6, 7, 10, 16]) send(chainFrame({ exts: dst(n) }));
    const cut: ChainSpec = { exts: dst(16) };
    send(chainFrame(cut).subarray(0, 54 + 60));
    send(chainFrame({ exts: [44, ...dst(7)], more: true, payloadLen: 8 + 40 }));
    const after = stats();
    const d = (k: string) => after[k].packets - before[k].packets;
    expect(d("tcp")).toBe(5 * N);
    expect(d("l4u_ext_cut")).toBe(N);
    expect(d("l4u_frag_cut")).toBe(N);
    expect(d("l4u_ports_cut") + d("l4u_ip_cut") + d("l4u_chain_long")).toBe(0);
  });
});
