// measure.ts — the two measurements every benchmark scenario makes:
//   ns/packet through BPF_PROG_TEST_RUN (the kernel's own per-run timing, median of several runs),
//   live Mpps through the lab (LIVE_FRAMES in, counted by the program's own xdptool_stats).
import { testRun } from "../ffi/prog.ts";
import { sendFrames } from "../lab/traffic.ts";
import { readCounters, type StatName } from "../stats/counters.ts";
import { enterNetns, resolveIface } from "../ffi/netns.ts";
import { ethtoolStats } from "../ffi/netdev.ts";
import type { Lab } from "../lab/setup.ts";

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Median ns per packet of `runs` test runs of `repeat` packets each. */
export function nsPerPacket(progFd: number, frame: Uint8Array, repeat = 1_000_000, runs = 5): { ns: number; retval: number } {
  const xs: number[] = [];
  let retval = -1;
  for (let i = 0; i < runs; i++) {
    const r = testRun(progFd, { data: frame, repeat });
    xs.push(r.durationNs);
    retval = r.retval;
  }
  return { ns: median(xs), retval };
}

/**
 * Send `count` frames from the lab's generator to the DUT (which must run an xdptool program) and
 * return the rate the DUT's program counted under `verdict` (drop, tx, pass…) over the send time.
 * LIVE_FRAMES with batches of 64 is held back to the receiver's pace, so this is the DUT's rate.
 */
export function livePps(lab: Lab, frame: Uint8Array, count: number, verdict: StatName): { pps: number; counted: number } {
  const dut = `${lab.dut.ns}/${lab.dut.ifname}`;
  resolveIface(dut);
  const before = readCounters(lab.dut.ifname)[verdict].packets;
  const gen = resolveIface(`${lab.gen.ns}/${lab.gen.ifname}`);
  const sent = sendFrames(gen.ifindex, frame, count);
  resolveIface(dut);
  const counted = readCounters(lab.dut.ifname)[verdict].packets - before;
  return { pps: counted / sent.seconds, counted };
}

/** The kernel's own counters of a veth end (ethtool -S): rx_queue_0_xdp_drops, xdp_packets…
 *  Read in its namespace, which this thread then stays in (as after resolveIface). */
export function vethStats(ns: string, ifname: string): Record<string, number> {
  enterNetns(ns);
  return Object.fromEntries([...ethtoolStats(ifname)].map(([k, v]) => [k, Number(v)]));
}
