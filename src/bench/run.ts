// run.ts — run benchmark scenarios on the lab and report each as a ratio to bare XDP_DROP.
import { attach, detach } from "../program/attach.ts";
import { embeddedObject } from "../program/embedded.ts";
import { resolveIface } from "../ffi/netns.ts";
import { fdById, withFd } from "../ffi/fd.ts";
import { xdpQuery } from "../ffi/xdp.ts";
import type { Lab } from "../lab/setup.ts";
import { buildFrame } from "../net/packet.ts";
import { livePps, nsPerPacket, vethStats } from "./measure.ts";
import type { Scenario } from "./scenarios.ts";
import { sendFrames } from "../lab/traffic.ts";

export interface Result {
  name: string;
  group: string;
  nsPerPacket: number;
  /** How ns/packet was taken: "repeat" (1M packets per run) or "single" (one packet per run). */
  nsMethod: "repeat" | "single";
  liveMpps: number | null;
  nsRatio?: number;
  liveRatio?: number | null;
}

function xdpDrops(lab: Lab): number {
  return vethStats(lab.dut.ns, lab.dut.ifname).rx_queue_0_xdp_drops ?? 0;
}

/** How many TEST_RUN repeats make one ns/packet figure: the full measure, or --quick's. */
export interface Effort { repeat: number; runs: number; singleRuns: number }
export const FULL: Effort = { repeat: 1_000_000, runs: 5, singleRuns: 2001 };
export const QUICK: Effort = { repeat: 100_000, runs: 3, singleRuns: 201 };

export async function runScenario(lab: Lab, s: Scenario, liveCount: number, progress: (msg: string) => void, effort = FULL): Promise<Result> {
  const frame = buildFrame({ src: lab.gen.ipv4, dst: lab.dut.ipv4, srcMac: lab.gen.mac, dstMac: lab.dut.mac, ...s.frame } as never);
  const dutName = `${lab.dut.ns}/${lab.dut.ifname}`;
  let dut = resolveIface(dutName);
  progress(`${s.name}: attaching`);
  const { sizeMaps } = await import("../blacklist/sizing.ts");
  attach({ iface: dut, image: embeddedObject(s.program)!, objectName: s.program, force: true, configure: s.blacklistRules ? (obj) => sizeMaps(obj, s.blacklistRules!) : undefined });
  let undo: (() => Promise<void>) | void = undefined;
  const genName = `${lab.gen.ns}/${lab.gen.ifname}`;
  if (s.genDrops) attach({ iface: resolveIface(genName), image: embeddedObject("bare_drop")!, objectName: "bare_drop" });
  try {
    progress(`${s.name}: setting up`);
    undo = await s.setup?.(lab, dut);
    dut = resolveIface(dutName);
    // ns/packet on the attached, configured program itself.
    progress(`${s.name}: BPF_PROG_TEST_RUN`);
    const ns = withFd(fdById("prog", xdpQuery(dut.ifindex).progId), (fd) =>
      s.singleRuns ? nsPerPacket(fd, frame, 1, effort.singleRuns).ns : nsPerPacket(fd, frame, effort.repeat, effort.runs).ns);
    const base: Result = { name: s.name, group: s.group, nsPerPacket: ns, nsMethod: s.singleRuns ? "single" : "repeat", liveMpps: null };
    if (!s.live) return base;
    progress(`${s.name}: ${liveCount} live frames`);
    let pps: number;
    if (s.verdict === "ethtool") {
      const before = xdpDrops(lab);
      const gen = resolveIface(`${lab.gen.ns}/${lab.gen.ifname}`);
      const sent = sendFrames(gen.ifindex, frame, liveCount);
      pps = (xdpDrops(lab) - before) / sent.seconds;
    } else pps = livePps(lab, frame, liveCount, s.verdict).pps;
    return { ...base, liveMpps: pps / 1e6 };
  } finally {
    if (undo) await undo();
    detach(resolveIface(dutName), true);
    if (s.genDrops) attach({ iface: resolveIface(genName), image: embeddedObject("pass")!, objectName: "pass" });
  }
}

/** Ratios to bare XDP_DROP measured the same way in the same run (a single-run figure carries the
 *  cost of one system call per packet, so it is compared with bare XDP_DROP in single runs). */
export function withRatios(results: Result[], bareSingleNs?: number): Result[] {
  const base = results.find((r) => r.name === "bare XDP_DROP");
  return results.map((r) => {
    const nsBase = r.nsMethod === "single" ? bareSingleNs : base?.nsPerPacket;
    return {
      ...r,
      nsRatio: nsBase ? r.nsPerPacket / nsBase : undefined,
      liveRatio: base?.liveMpps && r.liveMpps !== null ? r.liveMpps / base.liveMpps : null,
    };
  });
}

/** Bare XDP_DROP measured one packet per run: the yardstick for single-run scenarios. */
export async function bareSingleRunNs(lab: Lab, effort = FULL): Promise<number> {
  const { BpfObject } = await import("../ffi/object.ts");
  const obj = BpfObject.open(embeddedObject("bare_drop")!, "bare_drop");
  try {
    obj.load();
    const frame = buildFrame({ src: lab.gen.ipv4, dst: lab.dut.ipv4, l4: "udp" });
    return nsPerPacket(obj.progFd(obj.programs()[0]), frame, 1, effort.singleRuns).ns;
  } finally {
    obj.close();
  }
}
