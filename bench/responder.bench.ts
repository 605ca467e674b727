// responder.bench.ts — what answering a DNS query costs, with baselines measured in the same run.
//  1. BPF_PROG_TEST_RUN, ns/packet: a matching query rewritten into a TC reply (XDP_TX) against a
//     bare XDP_DROP program. The responder rewrites the frame in place and TEST_RUN does not
//     restore it between repeats, so each sample is one run (repeat=1) for both, interleaved,
//     median of the kernel's own `duration`. Also: a query whose name is walked and not listed
//     (parse + name hash walk + XDP_PASS, repeat=1M since nothing is rewritten) against drop.
//  2. Live on the lab: LIVE_FRAMES DNS queries from <lab>-gen; replies counted by the kernel on
//     <lab>-gen (ethtool rx_queue_0_xdp_packets, the generator end running `drop` meanwhile),
//     against the same traffic bounced by a bare XDP_TX program on the DUT: one flow, random
//     sources, --unverified-only under a random-source flood, and dnsdist's TCAction.
// Writes its section of bench/RESULTS.md (the run it replaces goes to bench/history/).
//   XDPTOOL_LAB=hr node_modules/.bin/bun bench/responder.bench.ts     (root; lab up)
import { spawn, spawnSync } from "bun";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { recordResults } from "../src/bench/results.ts";
import { join } from "node:path";
import { BpfObject } from "../src/ffi/object.ts";
import { fdById } from "../src/ffi/fd.ts";
import { testRun } from "../src/ffi/prog.ts";
import { resolveIface } from "../src/ffi/netns.ts";
import { embeddedObject } from "../src/program/embedded.ts";
import { attach, detach } from "../src/program/attach.ts";
import { buildFrame, dnsQuery } from "../src/net/packet.ts";
import { labConfig, labUp, labAttachGenerator } from "../src/lab/setup.ts";
import { sendFrames } from "../src/lab/traffic.ts";
import { sourcePrefix, type SourceList } from "../src/net/sources.ts";
import { enable } from "../src/responder/lifecycle.ts";
import { parseEnableArgs } from "../src/responder/config.ts";

const lab = labConfig();
labUp(lab);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const query = (name: string) => buildFrame({ src: lab.gen.ipv4, dst: lab.dut.ipv4, sport: 40000, dport: 53, srcMac: lab.gen.mac, dstMac: lab.dut.mac, payload: dnsQuery(name) });
const match = query("www.example.test"), other = query("www.unlisted.test");

// --- 1. TEST_RUN ------------------------------------------------------------------------------
const dut = () => resolveIface(`${lab.dut.ns}/${lab.dut.ifname}`);
const { progId } = enable(dut(), parseEnableArgs({ qname: "example.test" }));
const resp = fdById("prog", progId);
const dropObj = BpfObject.open(embeddedObject("drop")!, "drop");
dropObj.load();
const drop = dropObj.progFd(dropObj.programs()[0]);

const SAMPLES = 20000, REPEAT = 1_000_000;
const one = { resp: [] as number[], drop: [] as number[] };
for (let i = 0; i < SAMPLES; i++) {
  const r = testRun(resp, { data: match, dataOut: 512 });
  if (r.retval !== 3) throw new Error(`responder returned ${r.retval}, expected XDP_TX`);
  one.resp.push(r.durationNs);
  one.drop.push(testRun(drop, { data: match }).durationNs);
}
const many = { resp: [] as number[], drop: [] as number[] };
for (let i = 0; i < 15; i++) {
  const r = testRun(resp, { data: other, repeat: REPEAT });
  if (r.retval !== 2) throw new Error(`responder returned ${r.retval} for an unlisted name, expected XDP_PASS`);
  many.resp.push(r.durationNs);
  many.drop.push(testRun(drop, { data: other, repeat: REPEAT }).durationNs);
}

// --- 2. live ----------------------------------------------------------------------------------
// Each round, interleaved: the responder on one flow of matching queries, the same with a random
// IPv4 source per query, --unverified-only under that random-source flood, the bare XDP_TX bounce
// of both kinds of traffic, and dnsdist's TCAction (the external peer, port 5300 of the DUT)
// answering the same query. Ratios: each responder case against the bounce of the same traffic.
const gen = () => resolveIface(`${lab.gen.ns}/${lab.gen.ifname}`);
function genRx(): number {
  const out = spawnSync(["ip", "netns", "exec", lab.gen.ns, "ethtool", "-S", lab.gen.ifname]).stdout.toString();
  return Number(out.match(/rx_queue_0_xdp_packets:\s*(\d+)/)?.[1] ?? 0);
}
const LIVE = 2_000_000, ROUNDS = Number(process.env.ROUNDS ?? 7);
// Random sources from 198.19.0.0/16: inside the lab's range, outside its /24 (never the DUT's own).
const RANDOM = sourcePrefix("198.19.0.0/16");
function live(frame: Uint8Array, sources?: SourceList, count = LIVE): { rps: number; replies: number } {
  const g = gen(); // enters the generator's namespace for the send
  const before = genRx();
  const r = sendFrames(g.ifindex, frame, count, 64, sources);
  const replies = genRx() - before;
  return { rps: replies / r.seconds, replies };
}
/** Replies/s of a server in user space: it answers at its own pace, far below the offered rate,
 *  so queries are offered for ~2 s and the replies counted until they stop coming. */
async function liveServer(frame: Uint8Array): Promise<number> {
  const g = gen(), before = genRx(), t0 = performance.now();
  while (performance.now() - t0 < 2000) sendFrames(g.ifindex, frame, 20_000);
  let last = genRx(), t1 = performance.now();
  for (let n = genRx(); ; last = n) {
    await Bun.sleep(50);
    if ((n = genRx()) === last) break;
    t1 = performance.now();
  }
  return (last - before) / ((t1 - t0) / 1000);
}
const DNSDIST_PORT = 5300;
const dnsdistQuery = buildFrame({ src: lab.gen.ipv4, dst: lab.dut.ipv4, sport: 40000, dport: DNSDIST_PORT, srcMac: lab.gen.mac, dstMac: lab.dut.mac, payload: dnsQuery("www.example.test") });
const ddDir = mkdtempSync(join(tmpdir(), "xdptool-bench-dnsdist-"));
writeFileSync(join(ddDir, "dnsdist.conf"), [`setLocal("${lab.dut.ipv4}:${DNSDIST_PORT}")`, `setACL({"198.18.0.0/15"})`, "addAction(AllRule(), TCAction())", ""].join("\n"));
const dnsdist = spawn(["ip", "netns", "exec", lab.dut.ns, "dnsdist", "--supervised", "--disable-syslog", "-C", join(ddDir, "dnsdist.conf")], { stdout: "ignore", stderr: "ignore" });
await Bun.sleep(1000);

// The generator end drops what it receives, so the stack's XDP_PASS ceiling does not cap the count.
attach({ iface: gen(), image: embeddedObject("drop")!, objectName: "drop", mode: "native" });
const CASES = ["one", "random", "unverified", "bounce", "bounceRandom", "dnsdist"] as const;
const rates = Object.fromEntries(CASES.map((c) => [c, [] as number[]])) as Record<(typeof CASES)[number], number[]>;
const answered = (c: string, a: { rps: number; replies: number }) => {
  if (a.replies < LIVE) console.error(`  ${c}: ${a.replies} replies to ${LIVE} queries`);
  return a.rps;
};
try {
  for (let round = 0; round < ROUNDS; round++) {
    enable(dut(), parseEnableArgs({ qname: "example.test" }));
    rates.one.push(answered("one", live(match)));
    rates.random.push(answered("random", live(match, RANDOM)));
    enable(dut(), parseEnableArgs({ "unverified-only": true }));
    rates.unverified.push(answered("unverified", live(match, RANDOM)));
    attach({ iface: dut(), image: embeddedObject("tx")!, objectName: "tx", program: "tx", mode: "native" }); // bare XDP_TX bounce (tx.bpf.c also holds tx_src)
    rates.bounce.push(live(match).rps);
    rates.bounceRandom.push(live(match, RANDOM).rps);
    // dnsdist: the DUT passes the queries to its stack (a veth peer needs an XDP program to take
    // the generator's XDP_TX frames at all).
    attach({ iface: dut(), image: embeddedObject("pass")!, objectName: "pass", mode: "native" });
    rates.dnsdist.push(await liveServer(dnsdistQuery));
    detach(dut());
    console.error(`round ${round + 1}: ${CASES.map((c) => `${c} ${(rates[c][round] / 1e6).toFixed(3)} M`).join(", ")}`);
  }
} finally {
  dnsdist.kill();
  await dnsdist.exited;
  rmSync(ddDir, { recursive: true, force: true });
  await labAttachGenerator(lab);
}

const rows = [
  ["TEST_RUN, matching query → TC reply (XDP_TX), repeat=1", median(one.resp), median(one.drop)],
  ["TEST_RUN, unlisted name → XDP_PASS, repeat=1M", median(many.resp), median(many.drop)],
];
console.table(rows.map(([what, r, d]) => ({ what, "responder ns/packet": r, "drop ns/packet": d, ratio: +(Number(r) / Number(d)).toFixed(2) })));
const M = (c: (typeof CASES)[number]) => median(rates[c]);
// The ratio is the median of the per-round ratios: each round measures a case and its bounce
// seconds apart, so load from elsewhere on the machine (it drifts over a run) mostly cancels, where
// a ratio of the two medians can pair a quiet round's bounce with a busy round's responder.
const ratios = (c: (typeof CASES)[number], base: "bounce" | "bounceRandom") => rates[c].map((r, i) => r / rates[base][i]);
const liveRow = (what: string, c: (typeof CASES)[number], base: "bounce" | "bounceRandom") => {
  const q = ratios(c, base);
  return `| ${what}, median of ${ROUNDS} × ${LIVE} | ${(M(c) / 1e6).toFixed(2)} M | bare XDP_TX ${(M(base) / 1e6).toFixed(2)} M | ${median(q).toFixed(2)} (rounds ${Math.min(...q).toFixed(2)}–${Math.max(...q).toFixed(2)}; ratio of the medians ${(M(c) / M(base)).toFixed(2)}) |`;
};
const liveRows = [
  liveRow("live replies/s, one flow of matching queries (--qname example.test)", "one", "bounce"),
  liveRow("live replies/s, matching queries from random sources (198.19.0.0/16)", "random", "bounceRandom"),
  liveRow("live replies/s, --unverified-only under the random-source flood", "unverified", "bounceRandom"),
  `| live replies/s, dnsdist 1.7 TCAction (user space, one flow offered for 2 s), median of ${ROUNDS} | ${(M("dnsdist") / 1e6).toFixed(3)} M | bare XDP_TX ${(M("bounce") / 1e6).toFixed(2)} M | ${(M("dnsdist") / M("bounce")).toFixed(3)} (responder one flow: ${(M("one") / M("dnsdist")).toFixed(0)}×) |`,
];
console.log(liveRows.join("\n"));

const when = new Date().toISOString().slice(0, 16).replace("T", " ");
recordResults(join(import.meta.dir, "RESULTS.md"), [
  `\n## responder (${when} UTC, kernel ${spawnSync(["uname", "-r"]).stdout.toString().trim()}, load average at the end ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")})`,
  "| measurement | responder | baseline | ratio |", "|---|---|---|---|",
  `| TEST_RUN matching query → TC reply, ns/packet (median of ${SAMPLES} single runs) | ${median(one.resp)} | drop ${median(one.drop)} | ${(median(one.resp) / median(one.drop)).toFixed(2)} |`,
  `| TEST_RUN unlisted name → pass, ns/packet (median of 15 × ${REPEAT}) | ${median(many.resp)} | drop ${median(many.drop)} | ${(median(many.resp) / median(many.drop)).toFixed(2)} |`,
  ...liveRows,
  "",
  `Live: LIVE_FRAMES over the lab veth, replies counted by ethtool on ${lab.gen.ifname}; rounds interleave every case; ratio: median of the per-round ratios to the bounce of the same traffic (ROUNDS=${ROUNDS}).`,
  "",
].join("\n"));
