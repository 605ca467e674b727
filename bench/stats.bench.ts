// stats.bench.ts — what the per-packet counters cost: hello (parse + xt_count, 3 per-CPU counter
// bumps) against pass (bare XDP_PASS), both through BPF_PROG_TEST_RUN on the same frame, in the
// same run, interleaved. Reported as ns/packet and as a ratio to the baseline.
//   node_modules/.bin/bun bench/stats.bench.ts        (root; no lab needed)
import { Bench } from "tinybench";
import { BpfObject } from "../src/ffi/object.ts";
import { testRun } from "../src/ffi/prog.ts";
import { embeddedObject } from "../src/program/embedded.ts";
import { buildFrame } from "../src/net/packet.ts";

const REPEAT = 1_000_000;
const frame = buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", l4: "udp", sport: 1024, dport: 9, srcMac: "02:78:74:00:00:01", dstMac: "02:78:74:00:00:02", frameSize: 60 });

function prog(name: string): number {
  const obj = BpfObject.open(embeddedObject(name)!, name);
  obj.load();
  return obj.progFd(obj.programs()[0]);
}

const progs = { pass: prog("pass"), hello: prog("hello"), drop: prog("drop") };
// Per sample: the kernel's `duration` (ns/run, time on CPU only, but rounded down to whole ns) and
// the wall time of the call / REPEAT (precise, but includes time other processes steal the CPU).
const wall: Record<string, number[]> = { pass: [], hello: [], drop: [] };
const ns: Record<string, number[]> = { pass: [], hello: [], drop: [] };

const bench = new Bench({ iterations: 25, time: 0, warmupIterations: 3 });
for (const [name, fd] of Object.entries(progs)) bench.add(name, () => {
    const t0 = Bun.nanoseconds();
    ns[name].push(testRun(fd, { data: frame, repeat: REPEAT }).durationNs);
    wall[name].push((Bun.nanoseconds() - t0) / REPEAT);
  });
await bench.run();

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const base = median(ns.pass);
const rows = Object.keys(ns).map((n) => ({
  program: n,
  "ns/packet (median)": +median(ns[n]).toFixed(2),
  "wall ns/packet (median)": +median(wall[n]).toFixed(2),
  "wall ratio": +(median(wall[n]) / median(wall.pass)).toFixed(2),
  "ratio to pass": +(median(ns[n]) / base).toFixed(2),
  "extra ns/packet": +(median(ns[n]) - base).toFixed(2),
}));
console.table(rows);
console.log(`counters + parse cost: hello is ${(median(ns.hello) / base).toFixed(2)}× a bare pass program (${(median(ns.hello) - base).toFixed(2)} ns/packet more), ${REPEAT} runs × ${ns.pass.length} samples each`);
