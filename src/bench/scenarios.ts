// scenarios.ts — what `xdptool bench` measures. Each scenario names an embedded program, the
// frame it is fed, the verdict its counters are read under, and optional setup (rules, config).
import type { FrameSpec } from "../net/packet.ts";
import type { StatName } from "../stats.ts";
import type { BpfObject } from "../ffi/object.ts";

export interface Scenario {
  name: string;
  /** Group selectable on the command line: `xdptool bench blacklist`. */
  group: string;
  program: string;
  frame: Partial<FrameSpec>;
  /** Counter the live rate is read from; "ethtool" = the kernel's veth xdp_drops (programs without counters). */
  verdict: StatName | "ethtool";
  /** Live measurement makes sense only where the verdict is not XDP_PASS (the stack is the limit there). */
  live: boolean;
  configure?: (obj: BpfObject) => void;
  /** After attach: fill maps, enable stages… (runs in the DUT's namespace). */
  setup?: (ifname: string) => Promise<void> | void;
}

const udp: Partial<FrameSpec> = { l4: "udp", sport: 1024, dport: 9 };

export const scenarios: Scenario[] = [
  { name: "bare XDP_DROP", group: "baseline", program: "bare_drop", frame: udp, verdict: "ethtool", live: true },
  { name: "bare XDP_PASS", group: "baseline", program: "pass", frame: udp, verdict: "ethtool", live: false },
  { name: "stats: parse + counters, XDP_DROP", group: "stats", program: "drop", frame: udp, verdict: "drop", live: true },
  { name: "stats: parse + counters, XDP_PASS", group: "stats", program: "hello", frame: udp, verdict: "pass", live: false },
];
