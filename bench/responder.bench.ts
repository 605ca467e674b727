// responder.bench.ts — what answering a DNS query costs, with baselines measured in the same run.
//  1. BPF_PROG_TEST_RUN, ns/packet: a matching query rewritten into a TC reply (XDP_TX) against a
//     bare XDP_DROP program. The responder rewrites the frame in place and TEST_RUN does not
//     restore it between repeats, so each sample is one run (repeat=1) for both, interleaved,
//     median of the kernel's own `duration`. Also: a query whose name is walked and not listed
//     (parse + name hash walk + XDP_PASS, repeat=1M since nothing is rewritten) against drop.
//  2. Live on the lab: LIVE_FRAMES DNS queries from <lab>-gen; replies counted by the kernel on
//     <lab>-gen (ethtool rx_queue_0_xdp_packets, the generator end running `drop` meanwhile),
//     against the same traffic bounced by a bare XDP_TX program on the DUT.
// Writes its section of bench/RESULTS.md (the run it replaces goes to bench/history/).
//   XDPTOOL_LAB=hr node_modules/.bin/bun bench/responder.bench.ts     (root; lab up)
import { spawnSync } from "bun";
import { recordResults } from "../src/bench/results.ts";
import { join } from "node:path";
import { BpfObject } from "../src/ffi/object.ts";
import { fdById } from "../src/ffi/fd.ts";
import { testRun } from "../src/ffi/prog.ts";
import { resolveIface } from "../src/ffi/netns.ts";
import { embeddedObject } from "../src/embedded.ts";
import { attach, detach } from "../src/attach.ts";
import { buildFrame, dnsQuery } from "../src/net/packet.ts";
import { labConfig, labUp, labAttachGenerator } from "../src/lab.ts";
import { sendFrames } from "../src/traffic.ts";
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
const gen = () => resolveIface(`${lab.gen.ns}/${lab.gen.ifname}`);
function genRx(): number {
  const out = spawnSync(["ip", "netns", "exec", lab.gen.ns, "ethtool", "-S", lab.gen.ifname]).stdout.toString();
  return Number(out.match(/rx_queue_0_xdp_packets:\s*(\d+)/)?.[1] ?? 0);
}
const LIVE = 2_000_000;
function live(): { rps: number; replies: number } {
  const g = gen(); // enters the generator's namespace for the send
  const before = genRx();
  const r = sendFrames(g.ifindex, match, LIVE);
  const replies = genRx() - before;
  return { rps: replies / r.seconds, replies };
}
// The generator end drops what it receives, so the stack's XDP_PASS ceiling does not cap the count.
attach({ iface: gen(), image: embeddedObject("drop")!, objectName: "drop", mode: "native" });
const rates = { resp: [] as number[], bounce: [] as number[] };
try {
  for (let round = 0; round < 3; round++) {
    enable(dut(), parseEnableArgs({ qname: "example.test" }));
    const a = live();
    if (a.replies < LIVE) throw new Error(`only ${a.replies} of ${LIVE} replies came back`);
    rates.resp.push(a.rps);
    attach({ iface: dut(), image: embeddedObject("tx")!, objectName: "tx", program: "tx", mode: "native" }); // bare XDP_TX bounce (tx.bpf.c also holds tx_src)
    rates.bounce.push(live().rps);
    detach(dut());
  }
} finally {
  await labAttachGenerator(lab);
}

const rows = [
  ["TEST_RUN, matching query → TC reply (XDP_TX), repeat=1", median(one.resp), median(one.drop)],
  ["TEST_RUN, unlisted name → XDP_PASS, repeat=1M", median(many.resp), median(many.drop)],
];
console.table(rows.map(([what, r, d]) => ({ what, "responder ns/packet": r, "drop ns/packet": d, ratio: +(Number(r) / Number(d)).toFixed(2) })));
const lr = median(rates.resp), lb = median(rates.bounce);
console.log(`live: responder ${(lr / 1e6).toFixed(2)} M replies/s vs bare XDP_TX bounce ${(lb / 1e6).toFixed(2)} Mpps: ratio ${(lr / lb).toFixed(2)} (${LIVE} queries × 3 rounds)`);

const when = new Date().toISOString().slice(0, 16).replace("T", " ");
recordResults(join(import.meta.dir, "RESULTS.md"), [
  `\n## responder (${when} UTC, kernel ${spawnSync(["uname", "-r"]).stdout.toString().trim()})`,
  "| measurement | responder | baseline | ratio |", "|---|---|---|---|",
  `| TEST_RUN matching query → TC reply, ns/packet (median of ${SAMPLES} single runs) | ${median(one.resp)} | drop ${median(one.drop)} | ${(median(one.resp) / median(one.drop)).toFixed(2)} |`,
  `| TEST_RUN unlisted name → pass, ns/packet (median of 15 × ${REPEAT}) | ${median(many.resp)} | drop ${median(many.drop)} | ${(median(many.resp) / median(many.drop)).toFixed(2)} |`,
  `| live replies/s over veth (LIVE_FRAMES, counted by ethtool on ${lab.gen.ifname}), median of 3 × ${LIVE} | ${(lr / 1e6).toFixed(2)} M | bare XDP_TX ${(lb / 1e6).toFixed(2)} M | ${(lr / lb).toFixed(2)} |`,
  "",
].join("\n"));
