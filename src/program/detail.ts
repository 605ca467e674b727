// detail.ts — `xdptool status IFACE`: what runs on one interface, each feature's configuration
// and counters. Each feature contributes one describer; the stats counters are common to all.
import { readCounters, type Counters } from "../stats/counters.ts";
import type { Feature } from "../combined/bits.ts";
import type { IfaceStatus } from "./inventory.ts";
import { OpError } from "../errors.ts";

export interface IfaceDetail extends IfaceStatus {
  counters: Counters | null;
  /** Per enabled feature: its configuration and its own counters. */
  featureDetail: Partial<Record<Feature, { config: unknown; counters?: unknown; error?: string }>>;
}

type Describer = (ifname: string) => Promise<{ config: unknown; counters?: unknown; summary: string }>;

export const describers: Partial<Record<Feature, Describer>> = {
  responder: async (ifname) => {
    const { readConfig, readStats } = await import("../responder/maps.ts");
    const config = readConfig(ifname);
    const counters = readStats(ifname);
    const sel = [`ports ${config.ports.join(",")}`, config.qnames ? `${config.qnames} names` : "every name", config.from.length ? `from ${config.from.join(",")}` : "", config.over ? `over ${config.over} q/s, slip ${config.slip}` : ""];
    return { config, counters, summary: `${sel.filter(Boolean).join("; ")} — answered ${counters.answered}, slip-dropped ${counters.slip_dropped}` };
  },
  blacklist: async (ifname) => {
    const { withBlacklist, summarize, summaryText } = await import("../blacklist/store.ts");
    const s = withBlacklist(ifname, summarize);
    const { dropped, undecidable, ...config } = s;
    return { config, counters: { dropped, undecidable }, summary: summaryText(s) };
  },
  sampler: async () => ({ config: { capture: "running" }, summary: "a capture is running (xdptool sample)" }),
};

export async function ifaceDetail(s: IfaceStatus): Promise<IfaceDetail & { summaries: string[] }> {
  let counters: Counters | null = null;
  try {
    counters = s.owner === "xdptool" ? readCounters(s.interface) : null;
  } catch {
    counters = null; // a program of ours without statistics (pass)
  }
  const featureDetail: IfaceDetail["featureDetail"] = {};
  const summaries: string[] = [];
  for (const f of s.features as Feature[]) {
    let d: Awaited<ReturnType<Describer>> | undefined;
    try {
      d = await describers[f]?.(s.interface);
    } catch (e) {
      // One feature that cannot be read (pins of an older xdptool, changed from outside) says
      // why in its place; the rest of the status still shows.
      if (!(e instanceof OpError)) throw e;
      featureDetail[f] = { config: null, error: e.message };
      summaries.push(`${f}: ${e.message.replace(`${s.interface}: `, "")}`);
      continue;
    }
    if (!d) continue;
    featureDetail[f] = { config: d.config, counters: d.counters };
    summaries.push(`${f}: ${d.summary}`);
  }
  return { ...s, counters, featureDetail, summaries };
}
