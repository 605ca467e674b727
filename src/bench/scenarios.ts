// scenarios.ts — what `xdptool bench` measures. Each scenario attaches a program to the lab's DUT,
// configures it (rules, features, a capture), and is measured twice: ns/packet through
// BPF_PROG_TEST_RUN on the attached program, and live Mpps with LIVE_FRAMES from the generator.
import type { FrameSpec } from "../net/packet.ts";
import type { StatName } from "../stats/counters.ts";
import type { Iface } from "../ffi/netns.ts";
import type { Lab } from "../lab/setup.ts";
import { dnsQuery } from "../net/packet.ts";
import { selfArgv } from "../self.ts";

export interface Scenario {
  name: string;
  /** Group selectable on the command line: `xdptool bench blacklist`. */
  group: string;
  program: string;
  frame: Partial<FrameSpec>;
  /** Counter the live rate is read from; "ethtool" = the kernel's veth xdp_drops (no counters). */
  verdict: StatName | "ethtool";
  /** Live measurement makes sense only where the verdict is not XDP_PASS (the stack is the limit there). */
  live: boolean;
  /** Blacklist capacity for the combined program. */
  blacklistRules?: number;
  /** ns/packet from single-packet runs: for programs that rewrite the frame (a repeat would see the reply). */
  singleRuns?: boolean;
  /** The DUT sends replies (XDP_TX): the generator end drops them at XDP, so its stack is not the limit. */
  genDrops?: boolean;
  /** After attach: rules, features, a capture. Returns what to undo afterwards. */
  setup?: (lab: Lab, dut: Iface) => Promise<(() => Promise<void>) | void>;
}

const udp: Partial<FrameSpec> = { l4: "udp", sport: 1024, dport: 9 };
const BLOCKED = "198.18.7.5"; // in every benchmark rule set; test traffic only from the lab ranges
const query: Partial<FrameSpec> = { l4: "udp", sport: 5353, dport: 53, payload: dnsQuery("www.example.test") };

/** HIT plus n - 1 /32 rules from 100.64.0.0/10 (data only: never a packet source). */
function rulesText(n: number): string {
  const lines = [`${BLOCKED}`];
  for (let i = 1; i < n; i++) lines.push(`${100 + (i >> 22)}.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`);
  return lines.join("\n");
}

async function blacklist(dut: Iface, n: number): Promise<void> {
  const { setFeature } = await import("../combined/bits.ts");
  const { withBlacklist, importRules } = await import("../blacklist/store.ts");
  const { parseRulesText } = await import("../blacklist/parse.ts");
  if (n) withBlacklist(dut.name, (bl) => importRules(dut.name, bl, parseRulesText(rulesText(n), "bench"), true));
  setFeature(dut.name, "blacklist", true);
}

async function responder(dut: Iface): Promise<void> {
  const { switchOn } = await import("../responder/lifecycle.ts");
  const { parseEnableArgs } = await import("../responder/config.ts");
  switchOn(dut, parseEnableArgs({ qname: "example.test" } as never));
}

/** A capture by the real `xdptool sample` (a child process: the reader runs beside the sender). */
async function capture(lab: Lab, dut: Iface, args: string[]): Promise<() => Promise<void>> {
  const p = Bun.spawn([...selfArgv(), "sample", dut.name, "-w", "/dev/null", "--action", "drop,tx", ...args], { env: { ...process.env, XDPTOOL_LAB: lab.name }, stdout: "ignore", stderr: "pipe" });
  let err = "";
  (async () => { for await (const c of p.stderr as ReadableStream<Uint8Array>) err += Buffer.from(c).toString(); })();
  for (let i = 0; i < 200 && !err.includes("xdptool: sampling"); i++) await Bun.sleep(25);
  if (!err.includes("xdptool: sampling")) throw new Error(`sampler did not start: ${err}`);
  return async () => {
    p.kill("SIGINT");
    await p.exited;
  };
}

const sampler = (transport: string, rate: number): Scenario => ({
  name: `sampler ${transport} 1:${rate} (what the blacklist drops)`, group: "sampler", program: "xdptool", blacklistRules: 1024,
  frame: { ...udp, src: BLOCKED }, verdict: "drop", live: true,
  setup: async (lab, dut) => {
    await blacklist(dut, 1);
    return capture(lab, dut, ["--transport", transport, "--rate", String(rate), "--snaplen", "64"]);
  },
});

/** Every scenario; `bigRules` is the size of the largest blacklist (--quick makes it smaller). */
export function makeScenarios(bigRules = 1_000_000): Scenario[] {
  return [
  { name: "bare XDP_DROP", group: "baseline", program: "bare_drop", frame: udp, verdict: "ethtool", live: true },
  { name: "bare XDP_PASS", group: "baseline", program: "pass", frame: udp, verdict: "ethtool", live: false },
  { name: "stats: parse + counters, XDP_DROP", group: "stats", program: "drop", frame: udp, verdict: "drop", live: true },
  { name: "stats: parse + counters, XDP_PASS", group: "stats", program: "hello", frame: udp, verdict: "pass", live: false },
  ...[0, 10_000, bigRules].flatMap((n): Scenario[] => {
    const label = n === 0 ? "0" : n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
    const base = { group: "blacklist", program: "xdptool", blacklistRules: Math.max(1024, n + 16), setup: async (_: Lab, dut: Iface) => blacklist(dut, n) };
    const miss: Scenario = { ...base, name: `blacklist, ${label} rules, miss (passed)`, frame: udp, verdict: "pass", live: false };
    return n === 0 ? [miss] : [{ ...base, name: `blacklist, ${label} rules, hit (dropped)`, frame: { ...udp, src: BLOCKED }, verdict: "drop", live: true }, miss];
  }),
  {
    name: "responder: query → TC reply (XDP_TX)", group: "responder", program: "xdptool", blacklistRules: 1024, frame: query, verdict: "tx", live: true, singleRuns: true, genDrops: true,
    setup: async (_, dut) => responder(dut),
  },
  sampler("ringbuf", 1), sampler("ringbuf", 100), sampler("perf", 1), sampler("perf", 100),
  ...(["blocked source: dropped, sampled 1:100", "DNS query: answered, sampled 1:100"] as const).map((what, i): Scenario => ({
    name: `everything (blacklist 10k + responder + sampler): ${what}`, group: "combined", program: "xdptool", blacklistRules: 10_016,
    frame: i === 0 ? { ...query, src: BLOCKED } : query, verdict: i === 0 ? "drop" : "tx", live: true, singleRuns: i === 1, genDrops: i === 1,
    setup: async (lab, dut) => {
      await blacklist(dut, 10_000);
      await responder(dut);
      return capture(lab, dut, ["--rate", "100", "--snaplen", "64"]);
    },
  })),
];
}

export const scenarios: Scenario[] = makeScenarios();
