// run.ts — run benchmark scenarios on the lab and report each as a ratio to bare XDP_DROP.
import { spawnSync } from "bun";
import { attach, detach } from "../attach.ts";
import { embeddedObject } from "../embedded.ts";
import { BpfObject } from "../ffi/object.ts";
import { resolveIface } from "../ffi/netns.ts";
import { labConfig, type Lab } from "../lab.ts";
import { buildFrame } from "../net/packet.ts";
import { livePps, nsPerPacket } from "./measure.ts";
import type { Scenario } from "./scenarios.ts";
import { sendFrames } from "../traffic.ts";

export interface Result {
  name: string;
  group: string;
  nsPerPacket: number;
  liveMpps: number | null;
  nsRatio?: number;
  liveRatio?: number | null;
}

function xdpDrops(lab: Lab): number {
  const out = spawnSync(["ip", "netns", "exec", lab.dut.ns, "ethtool", "-S", lab.dut.ifname]).stdout.toString();
  return Number(out.match(/rx_queue_0_xdp_drops:\s*(\d+)/)?.[1] ?? 0);
}

export async function runScenario(lab: Lab, s: Scenario, liveCount: number, progress: (msg: string) => void): Promise<Result> {
  const frame = buildFrame({ src: lab.gen.ipv4, dst: lab.dut.ipv4, srcMac: lab.gen.mac, dstMac: lab.dut.mac, ...s.frame } as never);
  // ns/packet: a private copy of the program, never attached.
  progress(`${s.name}: BPF_PROG_TEST_RUN`);
  const obj = BpfObject.open(embeddedObject(s.program)!, s.program);
  let ns: number;
  try {
    s.configure?.(obj);
    obj.load();
    ns = nsPerPacket(obj.progFd(obj.programs()[0]), frame).ns;
  } finally {
    obj.close();
  }
  if (!s.live) return { name: s.name, group: s.group, nsPerPacket: ns, liveMpps: null };
  progress(`${s.name}: ${liveCount} live frames`);
  const dut = resolveIface(`${lab.dut.ns}/${lab.dut.ifname}`);
  attach({ iface: dut, image: embeddedObject(s.program)!, objectName: s.program, configure: s.configure, force: true });
  try {
    await s.setup?.(dut.name);
    let pps: number;
    if (s.verdict === "ethtool") {
      const before = xdpDrops(lab);
      const gen = resolveIface(`${lab.gen.ns}/${lab.gen.ifname}`);
      const sent = sendFrames(gen.ifindex, frame, liveCount);
      pps = (xdpDrops(lab) - before) / sent.seconds;
    } else pps = livePps(lab, frame, liveCount, s.verdict).pps;
    return { name: s.name, group: s.group, nsPerPacket: ns, liveMpps: pps / 1e6 };
  } finally {
    resolveIface(`${lab.dut.ns}/${lab.dut.ifname}`);
    detach(dut, true);
  }
}

export function withRatios(results: Result[]): Result[] {
  const base = results.find((r) => r.name === "bare XDP_DROP");
  return results.map((r) => ({
    ...r,
    nsRatio: base ? r.nsPerPacket / base.nsPerPacket : undefined,
    liveRatio: base?.liveMpps && r.liveMpps !== null ? r.liveMpps / base.liveMpps : null,
  }));
}

export { labConfig };
