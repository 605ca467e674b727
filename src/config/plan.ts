// plan.ts — `xdptool apply`: the difference between the configuration and what the kernel holds
// on one interface, and making it so through the paths the commands use: the combined program
// ensured once, the rule set swapped whole (as `blacklist import --replace`), features switched.
// Nothing differs: nothing is written, nothing re-attached, counters stay.
import type { Iface } from "../ffi/netns.ts";
import { enterNetns } from "../ffi/netns.ts";
import { clockNs, monoToWallMs } from "../ffi/clock.ts";
import { COMBINED, setFeature } from "../combined/bits.ts";
import { disableFeature, ensureCombined, withProgramLock } from "../combined/program.ts";
import { attachSize } from "../blacklist/stage.ts";
import { freeIdleInBackground, withBlacklist } from "../blacklist/store.ts";
import { lastFeedRules } from "../blacklist/feeds.ts";
import { ruleKey, type Rule } from "../blacklist/rules.ts";
import type { ReplaceInput } from "../blacklist/build.ts";
import { describeConfig, type ResponderConfig } from "../responder/config.ts";
import { disable as disableResponder, enable as enableResponder } from "../responder/lifecycle.ts";
import { startWatcher } from "../responder/local.ts";
import type { ResponderState } from "../responder/maps.ts";
import { formatPrefix, parsePrefix } from "../net/addr.ts";
import { readLive, type LiveInterface } from "./live.ts";
import { ifaceSpec, type InterfaceConfig } from "./model.ts";
import { OpError } from "../errors.ts";

/** Expiry times closer than this are the same (a saved time is rounded to the second). */
const SAME_EXPIRY_MS = 2000;

interface Wanted {
  rule: Rule;
  /** Wall-clock end, ms; 0: permanent. */
  expiresMs: number;
}

export interface Plan {
  iface: Iface;
  cfg: InterfaceConfig;
  live: LiveInterface;
  /** What will change (or would, with --dry-run), one line each; empty: nothing. */
  changes: string[];
  /** Said but not a change (an expiring rule whose time has passed). */
  notes: string[];
  /** The blacklist's wanted rules by key, when the rule set must be swapped. */
  swap: Map<string, Wanted> | null;
  blacklistOn: boolean;
  blacklistOff: boolean;
  blacklistSize: number | undefined;
  responder: "on" | "reconfigure" | "off" | "keep" | "none";
  modeSwitch: boolean;
}

const sorted = (xs: string[]) => [...xs].sort();
const prefixes = (xs: string[]) => sorted(xs.map((x) => formatPrefix(parsePrefix(x))));

/** A responder configuration in one comparable form, live or wanted. */
function responderShape(c: ResponderConfig | ResponderState): Record<string, unknown> {
  const names = "names" in c ? c.names ?? [] : c.qnames;
  const from = c.from.map((p) => (typeof p === "string" ? p : formatPrefix(p)));
  const addrs = c.addresses.map((p) => (typeof p === "string" ? p : formatPrefix(p)));
  return {
    ports: [...c.ports].sort((a, b) => a - b), qnames: sorted(names), from: prefixes(from), addresses: prefixes(addrs),
    over: c.over, slip: c.slip, v4_prefix: c.v4Prefix, v6_prefix: c.v6Prefix, unverified_only: c.unverifiedOnly,
    // The verification settings matter only while it is on.
    ...(c.unverifiedOnly ? { verified_ttl: c.verifiedTtl, verified_v4_prefix: c.verifiedV4Prefix, verified_v6_prefix: c.verifiedV6Prefix } : {}),
  };
}

/** At most this many rule lines per interface in the difference; the rest are counted. */
const RULE_LINES = 50;

function ruleLines(sign: string, keys: string[], what: string): string[] {
  const out = keys.slice(0, RULE_LINES).map((k) => `blacklist ${sign} ${k}${what}`);
  if (keys.length > RULE_LINES) out.push(`blacklist ${sign} … and ${keys.length - RULE_LINES} more rules`);
  return out;
}

const isoTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

export function plan(iface: Iface, cfg: InterfaceConfig): Plan {
  const live = readLive(iface);
  const p: Plan = { iface, cfg, live, changes: [], notes: [], swap: null, blacklistOn: false, blacklistOff: false, blacklistSize: undefined, responder: "none", modeSwitch: false };
  const wantProgram = cfg.blacklist !== null || cfg.responder !== null;
  if (wantProgram && live.foreign) {
    const { id, name } = live.foreign;
    throw new OpError(`${iface.name} runs XDP program "${name}" (id ${id}) that xdptool did not load: left alone (xdptool unload ${ifaceSpec(iface)} --force takes it off)`);
  }
  const ours = live.program === COMBINED;
  if (wantProgram && live.program && !ours) p.changes.push(`program: replace xdptool's "${live.program}" with the combined program`);
  else if (wantProgram && !live.program) p.changes.push(`program: attach xdptool's combined program (${cfg.mode} mode)`);
  if (wantProgram && ours && cfg.mode !== "auto" && cfg.mode !== live.mode) {
    p.modeSwitch = true;
    p.changes.push(`mode: ${live.mode} → ${cfg.mode} (re-attached: a new program id; maps and counters kept)`);
  }
  const bl = cfg.blacklist;
  if (bl) {
    if (!live.features.includes("blacklist")) {
      p.blacklistOn = true;
      p.changes.push("blacklist: switch on");
    }
    p.blacklistSize = attachSize(iface.name, bl.maxRules);
    if (live.blacklist && p.blacklistSize !== undefined && p.blacklistSize !== live.blacklist.capacity) p.changes.push(`blacklist: resize from ${live.blacklist.capacity} to ${p.blacklistSize} rules`);
    const nowMs = Date.now();
    const want = new Map<string, Wanted>();
    const ended = new Set<string>();
    for (const rule of bl.rules) if (!want.has(ruleKey(rule))) want.set(ruleKey(rule), { rule, expiresMs: 0 });
    // A feed's rules as last applied are wanted too (the refresh after the plan brings them up to date).
    for (const f of bl.feeds) for (const rule of lastFeedRules(iface.name, f.url)) if (!want.has(ruleKey(rule))) want.set(ruleKey(rule), { rule, expiresMs: 0 });
    for (const e of bl.expiring) {
      if (e.expiresMs > nowMs) want.set(ruleKey(e.rule), { rule: e.rule, expiresMs: e.expiresMs });
      else if (!ended.has(ruleKey(e.rule))) {
        ended.add(ruleKey(e.rule));
        p.notes.push(`blacklist: ${ruleKey(e.rule)} expired at ${isoTime(e.expiresMs)}: left out`);
      }
    }
    const have = new Map((live.blacklist?.rules ?? []).map((r) => [ruleKey(r), r]));
    const add = [...want.keys()].filter((k) => !have.has(k));
    const remove = [...have.keys()].filter((k) => !want.has(k) && !ended.has(k));
    const expired = [...have.keys()].filter((k) => ended.has(k));
    const retime = [...want.entries()].filter(([k, w]) => {
      const h = have.get(k);
      if (!h) return false;
      if (!w.expiresMs || h.expires === 0n) return !w.expiresMs !== (h.expires === 0n);
      return Math.abs(monoToWallMs(h.expires) - w.expiresMs) > SAME_EXPIRY_MS;
    }).map(([k, w]) => `${k} (${w.expiresMs ? `until ${isoTime(w.expiresMs)}` : "permanent"})`);
    // The file says each rule's comment (none when it gives none).
    const recomment = [...want.entries()].filter(([k, w]) => have.has(k) && (w.rule.comment ?? "") !== (have.get(k)!.comment ?? ""))
      .map(([k, w]) => `${k} (comment ${w.rule.comment ? JSON.stringify(w.rule.comment) : "removed"})`);
    retime.push(...recomment);
    if (add.length || remove.length || expired.length || retime.length) {
      p.swap = want;
      p.changes.push(...ruleLines("+", add, ""), ...ruleLines("-", remove, " (not in the file)"), ...ruleLines("-", expired, " (its time in the file has passed)"), ...ruleLines("~", retime, ""));
    }
  } else if (live.features.includes("blacklist")) {
    p.blacklistOff = true;
    p.changes.push("blacklist: switch off (its rules go when no feature is left on)");
  }
  const rc = cfg.responder;
  if (rc && !live.responder) {
    p.responder = "on";
    p.changes.push(`responder: switch on: ${describeConfig(rc)}`);
  } else if (rc && live.responder) {
    const a = responderShape(live.responder), b = responderShape(rc);
    const diff = Object.keys(b).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
    p.responder = diff.length ? "reconfigure" : "keep";
    for (const k of diff) p.changes.push(`responder: ${k} ${JSON.stringify(a[k])} → ${JSON.stringify(b[k])}`);
  } else if (!rc && live.responder) {
    p.responder = "off";
    p.changes.push("responder: switch off");
  }
  return p;
}

/** Make the interface match its plan (called only when it has changes). */
export async function execute(p: Plan): Promise<void> {
  const { iface, cfg } = p;
  enterNetns(iface.netns);
  if (cfg.blacklist || cfg.responder) {
    withProgramLock(iface.name, () => ensureCombined(iface, { mode: cfg.mode, force: p.modeSwitch, blacklistRules: cfg.blacklist ? p.blacklistSize : undefined }));
  }
  if (cfg.blacklist && p.swap) {
    const want = p.swap;
    withBlacklist(iface.name, (bl) => {
      // Counters of rules that stay are carried into the new set; the switch is one write.
      const now = clockNs(), nowMs = Date.now();
      const have = new Map(bl.read().map((r) => [ruleKey(r), r]));
      const set: ReplaceInput[] = [...want.entries()].map(([k, w]) => {
        const h = have.get(k);
        const expires = w.expiresMs ? now + BigInt(Math.max(1, w.expiresMs - nowMs)) * 1_000_000n : 0n;
        return { rule: { ...w.rule, comment: w.rule.comment ?? "" }, expires, hits: h ? bl.hits(h.id) : undefined };
      });
      bl.replace(set, undefined, undefined, true);
    });
    await freeIdleInBackground(iface.name);
  }
  // Rules are in place before the stage is switched on.
  if (p.blacklistOn) withProgramLock(iface.name, () => setFeature(iface.name, "blacklist", true));
  if (cfg.responder && (p.responder === "on" || p.responder === "reconfigure")) enableResponder(iface, cfg.responder, { mode: cfg.mode });
  else if (p.responder === "keep") startWatcher(iface); // it follows the host's addresses; no-op when it runs
  // Off last: switching a feature off detaches the program when it was the last one on.
  if (p.blacklistOff) disableFeature(iface, "blacklist");
  if (p.responder === "off") disableResponder(iface);
}
