// cbpf.h (the in-kernel interpreter of `sample` filters) against libpcap's own bpf_filter: the same
// programs over the same frames, every verdict compared — tcpdump expressions as libpcap compiles
// them, and hand-made indirect loads whose X + k lands near and past the 32-bit edge.
import { beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, sh } from "./helpers.ts";
import { BpfObject } from "../src/ffi/object.ts";
import { BpfMap } from "../src/ffi/map.ts";
import { testRun } from "../src/ffi/prog.ts";
import { compileFilter, pcapFilter } from "../src/ffi/pcap.ts";
import { buildFrame, dnsQuery } from "../src/net/packet.ts";
import { chainFrame } from "./ext-chain.ts";

let prog = -1, filterMap: BpfMap;

beforeAll(() => {
  const obj = join(mkdtempSync(join(tmpdir(), "xt-cbpf-")), "cbpf.o");
  const cc = sh(["clang", "-g", "-O2", "-target", "bpf", "-I", join(ROOT, "libbpf/out/include"), "-I", `/usr/include/${process.arch === "x64" ? "x86_64" : "aarch64"}-linux-gnu`, "-c", join(ROOT, "test/fixtures/cbpf.bpf.c"), "-o", obj]);
  if (cc.code !== 0) throw new Error(cc.stderr);
  const o = BpfObject.open(readFileSync(obj), "cbpf");
  o.load();
  prog = o.progFd(o.programs()[0]);
  filterMap = new BpfMap(o.mapFd(o.maps().find((m) => m.name === "filter")!));
});

/** struct bpf_insn / xt_cbpf_insn: u16 code, u8 jt, u8 jf, u32 k. */
function insns(...ins: [number, number][]): Buffer {
  const b = Buffer.alloc(ins.length * 8);
  ins.forEach(([code, k], i) => {
    b.writeUInt16LE(code, i * 8);
    b.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return b;
}
function load(code: Buffer) {
  const v = Buffer.alloc(8 + 256 * 8); // struct xt_cbpf_prog
  v.writeUInt32LE(code.length / 8, 0);
  code.copy(v, 8);
  filterMap.update(Buffer.alloc(4), v);
}

const frames: Uint8Array[] = [
  buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", sport: 4000, dport: 53, payload: dnsQuery("www.example.test") }),
  buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", l4: "tcp", sport: 40000, dport: 22 }),
  buildFrame({ src: "2001:db8::1", dst: "2001:db8::2", sport: 4000, dport: 53, payload: dnsQuery("a.test"), vlans: [100] }),
  buildFrame({ src: "2001:db8::1", dst: "2001:db8::2", l4: "icmp" }),
  chainFrame({ exts: [60, 60, 60] }),
  Uint8Array.from({ length: 14 }, (_, i) => i),
];
let seed = 0x1234567;
const rnd = (n: number) => {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed % n;
};
for (let i = 0; i < 20; i++) frames.push(Uint8Array.from({ length: 14 + rnd(300) }, () => rnd(256)));

function compare(name: string, code: Buffer, mismatches: string[]) {
  load(code);
  for (const f of frames) {
    const kernel = testRun(prog, { data: f }).retval;
    const ref = pcapFilter(code, f, f.length, f.length) !== 0 ? 1 : 0;
    if (kernel !== ref) mismatches.push(`${name} on ${f.length} bytes: kernel ${kernel}, libpcap ${ref}`);
  }
}

test("tcpdump expressions: the same verdict as libpcap on every frame", () => {
  const mismatches: string[] = [];
  for (const expr of ["tcp dst port 22", "udp port 53", "ip6 and udp", "vlan and udp", "ip[2:2] > 60", "tcp[tcpflags] & tcp-syn != 0",
    "udp[8:2] = 0x1234", "ip6[6] = 60", "ether[12:2] = 0x86dd", "len > 100", "icmp6 or icmp", "not arp", "ip[0] & 0xf > 5", "udp[10] & 0x80 = 0"]) {
    compare(expr, compileFilter(expr, 262144), mismatches);
  }
  expect(mismatches).toEqual([]);
});

test("indirect loads near the 32-bit edge: X + k past 2^32 is no match, as in libpcap", () => {
  const LDX_IMM = 0x01, LDX_MSH = 0xb1, LD_IND = { W: 0x40, H: 0x48, B: 0x50 }, RET_K = 0x06, RET_A = 0x16;
  const mismatches: string[] = [];
  const ks = [0, 1, 12, 0x10, 0x20, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];
  let cases = 0;
  for (const k of ks) {
    const xs = [0, 1, 13, 14, 40, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff, (0x100000000 - k) % 0x100000000, (0x100000010 - k) % 0x100000000, (0xfffffffc - k) >>> 0];
    for (const x of xs) {
      for (const [size, code] of Object.entries(LD_IND)) {
        compare(`X=${x.toString(16)} k=${k.toString(16)} ${size}`, insns([LDX_IMM, x], [code, k], [RET_K, 1]), mismatches);
        cases++;
      }
    }
    // X from MSH (4 × the low nibble of a packet byte), then an indirect load, returning A.
    compare(`MSH k=${k.toString(16)}`, insns([LDX_MSH, 14], [LD_IND.B, k], [RET_A, 0]), mismatches);
  }
  expect(cases).toBeGreaterThan(300);
  expect(mismatches).toEqual([]);
});
