// responder-ab.bench.ts — the responder as built now against the responder of an earlier commit,
// in the same run: did a change cost replies/s? (Issue 20 allows its checks — own MAC, local
// destination, IPv6 checksum 0 — at most 5% of the answering rate.)
//   BASE=57268c6 XDPTOOL_LAB=ra node_modules/.bin/bun bench/responder-ab.bench.ts   (root)
//   BASE=96c457b QNAME=example.test …   (a base with today's configuration layout, selecting by name)
// The base is built from git by bench/build-base.sh. Each round attaches one object, then the
// other (order alternating), configures it for one listed name, and sends the same 2M DNS queries
// with LIVE_FRAMES; replies are counted by the kernel on the generator end (ethtool). Reported:
// the median of the per-round ratios now/base, and TEST_RUN ns per query (repeat 1: a reply
// rewrites the frame in place, so each run is one query).
import { spawnSync } from "bun";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { recordResults } from "../src/bench/results.ts";
import { attach, detach } from "../src/program/attach.ts";
import { BpfMap } from "../src/ffi/map.ts";
import { pinDir } from "../src/ffi/bpffs.ts";
import { fdById } from "../src/ffi/fd.ts";
import { testRun } from "../src/ffi/prog.ts";
import { resolveIface } from "../src/ffi/netns.ts";
import { ethtoolStats } from "../src/ffi/netdev.ts";
import { embeddedObject } from "../src/program/embedded.ts";
import { buildFrame, dnsQuery } from "../src/net/packet.ts";
import { labConfig, labUp } from "../src/lab/setup.ts";
import { sendFrames } from "../src/lab/traffic.ts";
import { RESP_LAYOUT, encodeConfig, writeConfig, writeLocal } from "../src/responder/maps.ts";
import { parseEnableArgs, randomMultiplier, wireName, type ResponderConfig } from "../src/responder/config.ts";
import { placeNames, writeHalf } from "../src/responder/names.ts";
import { parsePrefix } from "../src/net/addr.ts";

const ROOT = join(import.meta.dir, "..");
const BASE = process.env.BASE ?? "57268c6";
const ROUNDS = Number(process.env.ROUNDS ?? 12), LIVE = 2_000_000, RUNS = 3000;
/** The suffix hash before layout 6: h = Σ (byte[i] + 1) · mul^i mod 2^64, from the last byte back. */
function byteHash(wire: Uint8Array, mul: bigint): bigint {
  let h = 0n;
  for (let i = wire.length - 1; i >= 0; i--) h = (h * mul + BigInt(wire[i]) + 1n) & 0xffffffffffffffffn;
  return h;
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

/** The base commit's responder object, built by bench/build-base.sh from its own sources. */
function baseObject(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "xdptool-ab-"));
  try {
    const b = spawnSync(["bash", join(ROOT, "bench/build-base.sh"), BASE, dir]);
    if (b.exitCode !== 0) throw new Error(`bench/build-base.sh ${BASE}: ${b.stderr.toString()}`);
    return new Uint8Array(readFileSync(join(dir, "dist/bpf/responder.bpf.o")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const lab = labConfig();
labUp(lab);
// The generator end drops the replies (passing them up the stack would set the pace).
attach({ iface: resolveIface(`${lab.gen.ns}/${lab.gen.ifname}`), image: embeddedObject("drop")!, objectName: "drop", mode: "native" });
const dut = () => resolveIface(`${lab.dut.ns}/${lab.dut.ifname}`);
const gen = () => resolveIface(`${lab.gen.ns}/${lab.gen.ifname}`);
const query = buildFrame({ src: lab.gen.ipv4, dst: lab.dut.ipv4, sport: 40000, dport: 53, srcMac: lab.gen.mac, dstMac: lab.dut.mac, payload: dnsQuery("www.example.test") });
const mac = Uint8Array.from(lab.dut.mac.split(":").map((x) => parseInt(x, 16)));
// Every name, as an old base is configured (the same work on both sides); QNAME=example.test
// selects by name on both, for a base with today's configuration layout.
const QNAME = process.env.QNAME;
const cfg = parseEnableArgs(QNAME ? { qname: QNAME } : {});
// The same name under a rate no source reaches: matched, then passed (under the rate), the frame
// untouched, so TEST_RUN can repeat it — the name's lookup, hit, timed without the rewrite.
const cfgUnder = parseEnableArgs(QNAME ? { qname: QNAME, over: "10000000" } : {});
const withPin = <T>(ifname: string, name: string, fn: (m: BpfMap) => T): T => BpfMap.withPinned(join(pinDir(ifname), name), fn);
const configSize = (ifname: string): number => withPin(ifname, "resp_config", (m) => m.valueBytes);
const images = { base: baseObject(), now: embeddedObject("responder")! };
type Which = keyof typeof images;

/** Attach one object and configure it: today's through the product's own writers; the base's
 *  configuration is the common prefix of the struct, written raw. */
function setUp(which: Which): number {
  const i = dut();
  try {
    detach(i);
  } catch {}
  const { progId } = attach({ iface: i, image: images[which], objectName: "responder", mode: "native" });
  configure(which, cfg);
  return progId;
}

function configure(which: Which, cfg: ResponderConfig): void {
  const i = dut();
  // A base whose configuration has today's layout (any commit since the --qname length bounds)
  // but an older suffix hash (byte at a time, before layout 6): its names are placed by that hash,
  // in resp_name_slots (layout 5) or as the keys of a hash map, resp_names (before it).
  const older = ["resp_name_slots", "resp_names"].find((n) => existsSync(join(pinDir(i.name), n)));
  if (which === "base" && older && configSize(i.name) === RESP_LAYOUT.xt_resp_config.size) {
    const mul = randomMultiplier();
    const keys = cfg.qnames.map(wireName).map((w) => ({ len: w.length, hash: byteHash(w, mul) }));
    if (older === "resp_names") {
      withPin(i.name, "resp_names", (m) => keys.forEach(({ len, hash }) => {
        const k = Buffer.alloc(RESP_LAYOUT.xt_resp_name.size);
        k.writeUInt32LE(len, RESP_LAYOUT.xt_resp_name.len);
        k.writeBigUInt64LE(hash, RESP_LAYOUT.xt_resp_name.hash);
        m.update(k, Uint8Array.of(1));
      }));
    } else {
      withPin(i.name, "resp_name_slots", (m) => writeHalf(m, 0, placeNames(keys)!));
    }
    withPin(i.name, "resp_config", (m) => m.update(Buffer.alloc(4), encodeConfig(cfg, mul, mac, 0)));
    writeLocal(i.name, [parsePrefix(lab.dut.ipv4), parsePrefix(lab.dut.ipv6)]);
    return;
  }
  if (which === "now" || configSize(i.name) === RESP_LAYOUT.xt_resp_config.size) {
    writeConfig(i.name, cfg, mac);
    writeLocal(i.name, [parsePrefix(lab.dut.ipv4), parsePrefix(lab.dut.ipv6)]);
    return;
  }
  if (QNAME) throw new Error(`QNAME: the base ${BASE} has an older configuration layout, written raw with every name`);
  const m = BpfMap.pinned(join(pinDir(i.name), "resp_config"));
  try {
    const L = RESP_LAYOUT.xt_resp_config, b = Buffer.alloc(m.valueBytes);
    b.writeUInt16LE(1, L.nports);
    b.writeUInt16LE(53, L.ports);
    b.writeBigUInt64LE(1n, L.hash_mul); // no names listed: every query matches (flags 0)
    m.update(Buffer.alloc(4), b);
  } finally {
    m.close();
  }
}

const replies = () => Number(ethtoolStats(lab.gen.ifname).get("rx_queue_0_xdp_packets") ?? 0n);
const rate: Record<Which, number[]> = { base: [], now: [] }, ns: Record<Which, number[]> = { base: [], now: [] };
// With QNAME: an unlisted name walks the same path up to the name lookup (a miss) and passes
// untouched, so it can be repeated in one run: ns per query without TEST_RUN's per-run setup.
const unlisted = buildFrame({ src: lab.gen.ipv4, dst: lab.dut.ipv4, sport: 40000, dport: 53, srcMac: lab.gen.mac, dstMac: lab.dut.mac, payload: dnsQuery("www.unlisted.test") });
const missNs: Record<Which, number[]> = { base: [], now: [] }, hitNs: Record<Which, number[]> = { base: [], now: [] };
const ratios: number[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    const got: Partial<Record<Which, number>> = {};
    for (const w of (round % 2 ? ["now", "base"] : ["base", "now"]) as Which[]) {
      const fd = fdById("prog", setUp(w));
      for (let i = 0; i < RUNS; i++) {
        const r = testRun(fd, { data: query, dataOut: 512 });
        if (r.retval !== 3) throw new Error(`${w}: the query was not answered (XDP action ${r.retval})`);
        ns[w].push(r.durationNs);
      }
      if (QNAME) {
        for (let i = 0; i < 5; i++) {
          const r = testRun(fd, { data: unlisted, repeat: 200_000 });
          if (r.retval !== 2) throw new Error(`${w}: the unlisted name was not passed (XDP action ${r.retval})`);
          missNs[w].push(r.durationNs);
        }
      }
      const g = gen(); // enters the generator's namespace, where its counters are read
      const before = replies(), sent = sendFrames(g.ifindex, query, LIVE), n = replies() - before;
      // A busy CPU can overrun a veth ring (queries or replies lost): the rate counts replies only.
      if (n < LIVE) console.error(`  ${w}: ${n} replies to ${LIVE} queries`);
      rate[w].push((got[w] = n / sent.seconds));
      if (QNAME) {
        configure(w, cfgUnder);
        for (let i = 0; i < 5; i++) {
          const r = testRun(fd, { data: query, repeat: 200_000 });
          if (r.retval !== 2) throw new Error(`${w}: the listed name under the rate was not passed (XDP action ${r.retval})`);
          hitNs[w].push(r.durationNs);
        }
      }
    }
    ratios.push(got.now! / got.base!);
    console.error(`round ${round + 1}: base ${(got.base! / 1e6).toFixed(3)} M/s, now ${(got.now! / 1e6).toFixed(3)} M/s`);
  }
} finally {
  detach(dut());
}

const md = `## builds compared: responder (${new Date().toISOString()}, base ${BASE}${QNAME ? `, --qname ${QNAME}` : ""}, kernel ${spawnSync(["uname", "-r"]).stdout.toString().trim()})
\`BASE=${BASE}${QNAME ? ` QNAME=${QNAME}` : ""} node_modules/.bin/bun bench/responder-ab.bench.ts\` — the responder object now against the one of ${BASE} (compiled from its sources in the same run), ${ROUNDS} rounds, order alternating; live: ${LIVE} DNS queries per program per round (LIVE_FRAMES over the lab veth), replies counted by the kernel on the generator end.

| measurement | base ${BASE} | now | now / base |
|---|---|---|---|
| live replies/s, median of ${ROUNDS} rounds | ${(median(rate.base) / 1e6).toFixed(3)} M | ${(median(rate.now) / 1e6).toFixed(3)} M | **${median(ratios).toFixed(3)}** (median of per-round ratios; range ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}) |
| TEST_RUN ns per answered query, median of ${ROUNDS * RUNS} single runs | ${median(ns.base)} | ${median(ns.now)} | ${(median(ns.now) / median(ns.base)).toFixed(3)} |
${QNAME ? `| TEST_RUN ns per listed name passed under --over 10000000 (the walk, a lookup that hits, the rate bucket → XDP_PASS), median of ${ROUNDS * 5} × 200000 | ${median(hitNs.base)} | ${median(hitNs.now)} | ${(median(hitNs.now) / median(hitNs.base)).toFixed(3)} |\n` : ""}${QNAME ? `| TEST_RUN ns per unlisted name (the walk and a lookup that misses → XDP_PASS), median of ${ROUNDS * 5} × 200000 | ${median(missNs.base)} | ${median(missNs.now)} | ${(median(missNs.now) / median(missNs.base)).toFixed(3)} |
` : ""}`;
console.log(md);
if (process.env.RESULTS !== "/dev/null") recordResults(process.env.RESULTS ?? join(import.meta.dir, "RESULTS.md"), md);
