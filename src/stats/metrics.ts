// metrics.ts — everything the Prometheus endpoint exports: each metric's name, type and help in
// one table (METRICS: what docs/grafana-dashboard.json may query, checked by the tests), and one
// scrape's samples read from the pinned maps of every feature an interface runs.
import { existsSync } from "node:fs";
import { readCounters } from "./counters.ts";
import { GROUPS } from "./rates.ts";
import { BpfMap } from "../ffi/map.ts";
import { mapPin } from "../maps/renamed.ts";
import { readSampleStats } from "../sampler/stats.ts";

export type Labels = Record<string, string>;

export const METRICS = {
  // The program's own counters (every xdptool program keeps them)
  xdptool_packets_total: ["counter", "Packets by XDP verdict."],
  xdptool_bytes_total: ["counter", "Bytes by XDP verdict."],
  xdptool_l3_packets_total: ["counter", "Packets by L3 protocol (outermost after VLAN tags)."],
  xdptool_l3_bytes_total: ["counter", "Bytes by L3 protocol."],
  xdptool_l4_packets_total: ["counter", "IP packets by L4 protocol."],
  xdptool_l4_bytes_total: ["counter", "IP bytes by L4 protocol."],
  xdptool_undecidable_packets_total: ["counter", "IP packets whose L4 protocol or ports could not be read, by reason."],
  // Blacklist: sums over the live rules' counters (they fall when rules are removed or replaced)
  xdptool_blacklist_rules: ["gauge", "Blacklist rules in force (TTL not expired), by action."],
  xdptool_blacklist_capacity_rules: ["gauge", "Rules the blacklist has room for."],
  xdptool_blacklist_dropped_packets_total: ["counter", "Packets dropped by deny rules (sum of the live rules' counters)."],
  xdptool_blacklist_dropped_bytes_total: ["counter", "Bytes dropped by deny rules (sum of the live rules' counters)."],
  xdptool_blacklist_allowed_packets_total: ["counter", "Packets let through by allow rules (sum of the live rules' counters)."],
  xdptool_blacklist_allowed_bytes_total: ["counter", "Bytes let through by allow rules (sum of the live rules' counters)."],
  xdptool_blacklist_undecidable_packets_total: ["counter", "Packets dropped because their ports or protocol could not be read while a port rule could apply."],
  xdptool_blacklist_rule_packets_total: ["counter", "Packets matched by each of the rules with the most packets (stats --top-rules N of them)."],
  xdptool_blacklist_rule_bytes_total: ["counter", "Bytes matched by each of the rules with the most packets (stats --top-rules N of them)."],
  // DNS responder
  xdptool_responder_answered_packets_total: ["counter", "DNS queries answered with TC=1 over XDP_TX."],
  xdptool_responder_slip_dropped_packets_total: ["counter", "Selected queries over the rate (--over) dropped between two slip answers."],
  xdptool_responder_passed_packets_total: ["counter", "Packets the responder passed on to the stack, by reason."],
  // Sampler (the combined program's; a standalone capture's maps die with it)
  xdptool_sampler_seen_packets_total: ["counter", "Packets the sampler stage looked at."],
  xdptool_sampler_captured_packets_total: ["counter", "Packets the sampler put in the capture buffer."],
  xdptool_sampler_lost_packets_total: ["counter", "Packets the sampler meant to capture but found the buffer full."],
  xdptool_sampler_skipped_packets_total: ["counter", "Packets the sampler left out, by reason (sampled_out: --rate; filtered: the in-kernel filter)."],
  // Feeds ($XDPTOOL_STATE_DIR/feeds.json)
  xdptool_feed_rules: ["gauge", "Rules the feed held when last applied."],
  xdptool_feed_last_success_timestamp_seconds: ["gauge", "When the feed was last fetched successfully (applied, or found unchanged), Unix time."],
  xdptool_feed_up: ["gauge", "1 when the feed's last import succeeded, 0 when it failed (the rules were left as they were)."],
} as const satisfies Record<string, readonly ["counter" | "gauge", string]>;

export type MetricName = keyof typeof METRICS;
export type Samples = Map<MetricName, [Labels, number][]>;

const RESP_PASS = ["not_dns", "not_query", "malformed", "under_rate", "no_match", "transit", "other_mac"] as const;

/** One scrape of the interfaces `ifs`: every family of METRICS, in order (empty ones included). */
export async function collect(ifs: string[], topRules: number): Promise<Samples> {
  const out: Samples = new Map((Object.keys(METRICS) as MetricName[]).map((n) => [n, []]));
  const put = (name: MetricName, labels: Labels, v: number) => out.get(name)!.push([labels, v]);
  const { attachedInterfaces } = await import("../blacklist/store.ts");
  const withBl = new Set(attachedInterfaces());
  for (const ifname of ifs) {
    const c = readCounters(ifname);
    const groups: [MetricName, MetricName, string, readonly string[]][] = [
      ["xdptool_packets_total", "xdptool_bytes_total", "action", GROUPS.action],
      ["xdptool_l3_packets_total", "xdptool_l3_bytes_total", "protocol", GROUPS.l3],
      ["xdptool_l4_packets_total", "xdptool_l4_bytes_total", "protocol", GROUPS.l4],
      ["xdptool_undecidable_packets_total", "xdptool_undecidable_packets_total", "reason", GROUPS.undecidable],
    ];
    for (const [pk, by, label, names] of groups) {
      for (const s of names) {
        const v = c[s as keyof typeof c];
        put(pk, { ifname, [label]: s }, v.packets);
        if (by !== pk) put(by, { ifname, [label]: s }, v.bytes);
      }
    }
    if (withBl.has(ifname)) await blacklist(ifname, topRules, put);
    await responder(ifname, put);
    sampler(ifname, put);
  }
  await feeds(ifs, put);
  return out;
}

type Put = (name: MetricName, labels: Labels, v: number) => void;

async function blacklist(ifname: string, topRules: number, put: Put): Promise<void> {
  const { openPinned, summarize } = await import("../blacklist/store.ts");
  const { topRules: top } = await import("../blacklist/top.ts");
  // Read only, without the writers' lock: a scrape during an import sees the old set or the new.
  const bl = openPinned(ifname);
  try {
    if (!bl.cfg.half) return; // never written to: no rules yet
    const s = summarize(bl);
    put("xdptool_blacklist_rules", { ifname, action: "deny" }, s.deny);
    put("xdptool_blacklist_rules", { ifname, action: "allow" }, s.allow);
    put("xdptool_blacklist_capacity_rules", { ifname }, s.capacity);
    put("xdptool_blacklist_dropped_packets_total", { ifname }, s.dropped);
    put("xdptool_blacklist_dropped_bytes_total", { ifname }, s.droppedBytes);
    put("xdptool_blacklist_allowed_packets_total", { ifname }, s.allowed);
    put("xdptool_blacklist_allowed_bytes_total", { ifname }, s.allowedBytes);
    put("xdptool_blacklist_undecidable_packets_total", { ifname }, s.undecidable);
    for (const r of top(bl, topRules)) {
      put("xdptool_blacklist_rule_packets_total", { ifname, rule: r.rule, action: r.action }, r.packets);
      put("xdptool_blacklist_rule_bytes_total", { ifname, rule: r.rule, action: r.action }, r.bytes);
    }
  } finally {
    bl.close();
  }
}

async function responder(ifname: string, put: Put): Promise<void> {
  const { hasResponder, readStats } = await import("../responder/maps.ts");
  if (!hasResponder(ifname)) return;
  const s = readStats(ifname);
  put("xdptool_responder_answered_packets_total", { ifname }, s.answered);
  put("xdptool_responder_slip_dropped_packets_total", { ifname }, s.slip_dropped);
  for (const r of RESP_PASS) put("xdptool_responder_passed_packets_total", { ifname, reason: r }, s[r]);
}

/** The combined program's sampler counters (pinned with it; they outlive captures). */
function sampler(ifname: string, put: Put): void {
  const pin = mapPin(ifname, "samp_stats");
  if (!existsSync(pin)) return;
  const m = BpfMap.pinned(pin);
  try {
    const [seen, sampledOut, submitted, lost, filtered] = readSampleStats(m);
    put("xdptool_sampler_seen_packets_total", { ifname }, seen);
    put("xdptool_sampler_captured_packets_total", { ifname }, submitted);
    put("xdptool_sampler_lost_packets_total", { ifname }, lost);
    put("xdptool_sampler_skipped_packets_total", { ifname, reason: "sampled_out" }, sampledOut);
    put("xdptool_sampler_skipped_packets_total", { ifname, reason: "filtered" }, filtered);
  } finally {
    m.close();
  }
}

async function feeds(ifs: string[], put: Put): Promise<void> {
  const { readFeedStates } = await import("../blacklist/feeds.ts");
  const { publicUrl } = await import("../blacklist/download.ts");
  for (const f of Object.values(readFeedStates())) {
    if (!ifs.includes(f.interface)) continue;
    const labels = { ifname: f.interface, url: publicUrl(f.url) }; // no password in a label
    put("xdptool_feed_rules", labels, f.rules);
    if (f.lastSuccess) put("xdptool_feed_last_success_timestamp_seconds", labels, Date.parse(f.lastSuccess) / 1000);
    put("xdptool_feed_up", labels, f.lastError ? 0 : 1);
  }
}
