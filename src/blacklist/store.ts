// store.ts — the blacklist attached to an interface: its pinned maps, the lock that serialises
// writers, expiry, listing with counters, import/export.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { OpError, UsageError } from "../errors.ts";
import { closeFd, objGet } from "../ffi/fd.ts";
import { ownedLink } from "../program/owned.ts";
import { hostPath, pinDir, pinnedInterfaces } from "../ffi/bpffs.ts";
import { clockNs, monoToWallMs } from "../ffi/clock.ts";
import { lockFile, withLock } from "../ffi/lock.ts";
import { resolveIface } from "../ffi/netns.ts";
import { BlacklistMaps, WindowFull, type Hits, type StoredRule } from "./maps.ts";
import { MAP_NAMES, MAP_SHAPES, NEWER_MAPS, TTL_FREE } from "./layout.ts";
import { matchText, type RuleView } from "./view.ts";
import type { ReplaceInput } from "./build.ts";
import { BpfMap } from "../ffi/map.ts";
import { enabledFeatures } from "../combined/bits.ts";
import { ruleKey, ruleLine, ruleText, ruleWords, type Rule } from "./rules.ts";
import { checkNoteRoom, readNotes, setNote } from "./notes.ts";
import { allRules, ruleCount, type ParsedFile } from "./parse.ts";

/** Interfaces whose combined program has the blacklist switched on. */
export function attachedInterfaces(): string[] {
  return pinnedInterfaces().filter((i) => existsSync(join(pinDir(i), "bl_cfg")) && enabledFeatures(i).includes("blacklist"));
}

/** Rules the pinned blacklist maps of an interface can hold (undefined: none pinned). */
export function pinnedCapacity(ifname: string): number | undefined {
  const pin = join(pinDir(ifname), "bl_recs");
  if (!existsSync(pin)) return undefined;
  return BpfMap.withPinned(pin, (m) => m.info.maxEntries / 2 - 1); // two generations of (rules + 1) records
}

/** The interface a command works on: --interface, or the only one with a blacklist. */
export function chooseInterface(opt?: string): string {
  const all = attachedInterfaces();
  if (opt) {
    const name = opt.includes("/") ? opt.split("/")[1] : opt;
    // NETNS/IFNAME names a namespace too: it must exist and hold the interface.
    if (opt.includes("/")) resolveIface(opt);
    if (!all.includes(name)) {
      const iface = resolveIface(opt); // first: does the interface exist at all?
      const owned = ownedLink(iface); // renamed since attach: its pins move to the new name
      if (owned) closeFd(owned.fd);
      if (attachedInterfaces().includes(name)) return name;
    }
    if (!all.includes(name)) throw new UsageError(`no blacklist on ${name}${all.length ? ` (it is on ${all.join(", ")})` : ""}; attach one: xdptool blacklist attach ${name}`);
    return name;
  }
  if (all.length === 0) throw new OpError("no blacklist is attached; attach one first: xdptool blacklist attach IFACE");
  if (all.length > 1) throw new UsageError(`blacklists are attached to ${all.join(", ")}: choose one with --interface`);
  return all[0];
}

export function lockPath(ifname: string): string {
  return lockFile(`blacklist-${ifname}`);
}

export function openPinned(ifname: string): BlacklistMaps {
  const dir = pinDir(ifname);
  const missing = MAP_NAMES.filter((n) => !existsSync(join(dir, n)));
  if (missing.length && missing.every((n) => n in NEWER_MAPS)) throw new OpError(`${ifname}: the blacklist was attached by an older xdptool (no ${missing.map((n) => NEWER_MAPS[n as keyof typeof NEWER_MAPS]).join(", no ")}); attach it again to upgrade, rules kept: xdptool blacklist attach ${ifname}`);
  if (missing.length) throw pinsChanged(ifname, `${missing.join(", ")} missing`);
  const bl = BlacklistMaps.open((n) => objGet(join(dir, n)));
  const odd = MAP_NAMES.filter((n) => {
    const i = bl.maps[n].info;
    return i.keySize !== MAP_SHAPES[n][0] || i.valueSize !== MAP_SHAPES[n][1];
  });
  if (odd.length) {
    bl.close();
    throw pinsChanged(ifname, `${odd.join(", ")} of another layout`);
  }
  return bl;
}

/** The pinned maps are not as xdptool left them (removed or replaced from outside). */
function pinsChanged(ifname: string, what: string): OpError {
  return new OpError(`${ifname}: the blacklist's pinned maps under ${hostPath(pinDir(ifname))} were changed from outside (${what}); nothing was changed — \`xdptool unload ${ifname}\` removes them all (and the rules)`);
}

/** Run `fn` on the interface's blacklist under its lock (writers never interleave). */
export function withBlacklist<T>(ifname: string, fn: (bl: BlacklistMaps) => T): T {
  return withLock(lockPath(ifname), () => {
    const bl = openPinned(ifname);
    try {
      bl.init();
      return fn(bl);
    } finally {
      bl.close();
    }
  });
}

export function expiresAt(ttl: number | undefined, now: bigint): bigint {
  return ttl ? now + BigInt(ttl) * 1_000_000_000n : 0n;
}

/** Remove rules whose time is up (the program already ignores them; this frees their entries). */
export function gc(bl: BlacklistMaps, rules = bl.read(), now = clockNs()): { kept: StoredRule[]; removed: number } {
  const kept: StoredRule[] = [];
  let removed = 0;
  for (const r of rules) {
    if (r.expires !== 0n && r.expires <= now) {
      bl.delete(r);
      removed++;
    } else kept.push(r);
  }
  return { kept, removed };
}

/** gc() when only the count matters: decodes just the rules that have expired. */
export function gcExpired(bl: BlacklistMaps, now = clockNs()): number {
  const c = bl.cfg;
  if (c.flags[c.gen] & TTL_FREE) return 0; // no rule has a TTL: no million records to read
  const { expired } = bl.census(now);
  return expired.length ? gc(bl, bl.read(undefined, new Set(expired)), now).removed : 0;
}

export interface Listed {
  id: number;
  rule: string;
  action: "deny" | "allow";
  /** Seconds left, null = no TTL. */
  ttl: number | null;
  packets: number;
  bytes: number;
  /** ISO time of the last hit, null = never. */
  lastHit: string | null;
  /** Its --comment, null = none. */
  comment: string | null;
}

/** Visit every live rule as `list` shows it, in id order, one at a time (nothing kept: a
 *  million rules stream in constant memory). Expired rules are skipped, and freed after. */
export function eachListed(bl: BlacklistMaps, visit: (l: Listed) => void): void {
  const now = clockNs(), notes = readNotes(bl.maps.bl_notes);
  let expired = false, n = 0;
  bl.scan((v) => {
    if (v.expires && v.expires <= now) { expired = true; return; } // not listed, and freed below
    visit(listed(bl, v, now, notes));
    if (++n % 65536 === 0) Bun.gc(false); // each rule leaves an object and strings: collect as we go
  }, undefined, true);
  if (expired) gcExpired(bl, now);
}

/** What `status` and `list --json` say of a blacklist as a whole, without decoding its rules. */
export interface BlacklistSummary {
  rules: number;
  deny: number;
  allow: number;
  capacity: number;
  /** Packets dropped by deny rules (their counters summed), and their bytes. */
  dropped: number;
  droppedBytes: number;
  /** Packets let through by allow rules, and their bytes. */
  allowed: number;
  allowedBytes: number;
  /** Of those, packets whose ports or protocol could not be read (dropped under a rule that could apply). */
  undecidable: number;
  /** Kernel memory of every map the blacklist uses, and per live rule (null: no rules). */
  memoryBytes: number;
  bytesPerRule: number | null;
  /** The IPv4 table: "windows" (the /24–/31 prefixes of a /24 share a page) or "flat" (a /24 was
   *  cut into more pieces than a window holds, so the set was built without them). */
  ipv4Table: { slots: number; used: number; layout: "windows" | "flat" };
}

/** "12 deny and 1 allow rules (room for 65536) — 340 packets dropped by rules; kernel memory 8.1 MiB (…/rule)" */
export function summaryText(s: BlacklistSummary): string {
  const mib = (s.memoryBytes / 2 ** 20).toFixed(1);
  return `${s.deny} deny and ${s.allow} allow rules (room for ${s.capacity}) — ${s.dropped} packets dropped by rules (${s.undecidable} of them undecidable: ports or protocol unreadable); kernel memory ${mib} MiB${s.bytesPerRule === null || s.rules < 10_000 ? "" : ` (${s.bytesPerRule} bytes a rule)`}`; // per rule: meaningful at scale only
}

export function summarize(bl: BlacklistMaps): BlacklistSummary {
  const s = bl.summary(clockNs());
  const rules = s.deny + s.allow, memoryBytes = bl.memoryBytes();
  return { rules, deny: s.deny, allow: s.allow, capacity: bl.capacity(), dropped: s.dropped, droppedBytes: s.droppedBytes, allowed: s.allowed, allowedBytes: s.allowedBytes, undecidable: s.undecidable, memoryBytes, bytesPerRule: rules ? Math.round(memoryBytes / rules) : null, ipv4Table: bl.ipv4Table() };
}

/**
 * One rule of the live generation as `list` shows it, by id; null when no entry holds it. Read
 * only: an expired rule is shown (with ttl 0), not freed. `candidates`, rules the id may be (those
 * a packet could match), are located first, a few lookups each; the whole set is scanned only
 * when none of them is the one (a second at a million rules).
 */
export function listedRule(bl: BlacklistMaps, id: number, candidates: Iterable<Rule> = []): Listed | null {
  const now = clockNs(), notes = readNotes(bl.maps.bl_notes);
  const state = bl.ruleState(id);
  for (const r of candidates) {
    if (r.allow !== state.allow || bl.locate(r) !== id) continue;
    return { id, rule: ruleText(r), action: r.allow ? "allow" : "deny", ...timesAndHits(state.expires, bl.hits(id), now), comment: notes.get(id) ?? null };
  }
  let out: Listed | null = null;
  bl.scan((v) => {
    if (v.id === id) out = listed(bl, v, now, notes);
  }, undefined, true);
  return out;
}

function timesAndHits(expires: bigint, h: Hits, now: bigint): Pick<Listed, "ttl" | "packets" | "bytes" | "lastHit"> {
  return {
    ttl: expires ? Math.max(0, Math.ceil(Number(expires - now) / 1e9)) : null,
    packets: h.packets, bytes: h.bytes, lastHit: h.last ? new Date(monoToWallMs(h.last)).toISOString() : null,
  };
}

function listed(bl: BlacklistMaps, v: RuleView, now: bigint, notes: Map<number, string>): Listed {
  return { id: v.id, rule: ruleWords(v.allow, matchText(v), v.dst, v.l4), action: v.allow ? "allow" : "deny", ...timesAndHits(v.expires, v.hits ?? bl.hits(v.id), now), comment: notes.get(v.id) ?? null };
}

/** Text that `import` reads back: the same rules, TTLs as the time left, in pieces of 1 MiB
 *  (a million rules never sit in memory at once). Plain source prefixes, the bulk of big lists,
 *  are written as bytes straight from their slots: no string per rule, no garbage to collect. */
export function exportText(bl: BlacklistMaps, write: (bytes: Buffer) => void): void {
  const now = clockNs(), notes = readNotes(bl.maps.bl_notes); // few: most rules have none
  const out = Buffer.allocUnsafe(1 << 20);
  let at = 0;
  const room = (n: number) => {
    if (at + n <= out.length) return;
    write(out.subarray(0, at));
    at = 0;
    Bun.gc(false); // the rules written as strings (IPv6, …) leave garbage: collect it as we go
  };
  const num = (x: number) => {
    if (x >= 100) out[at++] = 48 + ((x / 100) | 0);
    if (x >= 10) out[at++] = 48 + (((x / 10) | 0) % 10);
    out[at++] = 48 + (x % 10);
  };
  bl.scan((v) => {
    if (v.expires && v.expires <= now) return;
    if (v.table === "t4" && !v.allow && !v.dst && !v.expires && v.l4.kind === "none" && (notes.size === 0 || !notes.has(v.id))) {
      room(19);
      const k = v.keys, o = v.keyOff;
      num(k[o]); out[at++] = 46; num(k[o + 1]); out[at++] = 46; num(k[o + 2]); out[at++] = 46; num(k[o + 3]);
      out[at++] = 47;
      num(v.len);
      out[at++] = 10;
      return;
    }
    const words = ruleWords(v.allow, matchText(v), v.dst, v.l4);
    const line = ruleLine(v.expires ? `${words} --ttl ${Math.max(1, Math.ceil(Number(v.expires - now) / 1e9))}s` : words, notes.get(v.id)) + "\n";
    room(Buffer.byteLength(line));
    at += out.write(line, at);
  });
  if (at) write(out.subarray(0, at));
}

export interface ImportSummary {
  interface: string;
  read: number;
  duplicates: number;
  /** Rules now in the blacklist (null when rules were added one by one: not counted). */
  total: number | null;
  added: number;
  /** Live rules left out of the new set because `drop` named them (a feed no longer lists them). */
  removed: number;
  replace: boolean;
  /** "rebuild": a new generation, switched in at once; "incremental": added one by one. */
  method: "rebuild" | "incremental";
  timing?: import("./build.ts").ReplaceStats;
}

/**
 * Add one rule to the live set. When its /24's window of the IPv4 table is full (a /24 cut into
 * many pieces, added one at a time), the live set is rebuilt flat with the rule in it — the same
 * rules, counters and TTLs; the rule ids change, as after any rebuild.
 */
export function addRule(bl: BlacklistMaps, r: Rule, expires: bigint, now: bigint): { id: number; existed: boolean } {
  try {
    const out = bl.add(r, expires, now);
    if (r.comment !== undefined) setNote(bl.maps.bl_notes, out.id, r.comment); // room checked before (checkNoteRoom)
    return out;
  } catch (e) {
    if (!(e instanceof WindowFull)) throw e;
    const set: ReplaceInput[] = gc(bl, bl.read(), now).kept.map((x) => ({ rule: x, expires: x.expires, hits: bl.hits(x.id) }));
    set.push({ rule: r, expires });
    bl.replace(set, undefined, undefined, false, true);
    return { id: bl.locate(r) ?? 0, existed: false };
  }
}

/** The rules of `rules` that would take a new id in the live generation (not there, or expired). */
function needingIds(bl: BlacklistMaps, rules: Iterable<Rule>, now: bigint): number {
  const need = new Set<string>();
  for (const r of rules) {
    const id = bl.locate(r);
    const s = id ? bl.ruleState(id) : null;
    if (!s?.active || (s.expires !== 0n && s.expires <= now)) need.add(ruleKey(r));
  }
  return need.size;
}

/** Ids the live generation has left for rules added one by one: a deleted rule's id comes back
 *  only when the set is rebuilt. */
function idsLeft(bl: BlacklistMaps): number {
  const c = bl.cfg;
  return bl.capacity(c) - bl.idsUsed(c.gen);
}

/**
 * Add rules to the live set, all of them or none. One by one while the live generation has ids
 * left for them; otherwise (ids of deleted rules are not reused) the live rules, with their
 * counters, and the new ones are rebuilt in the idle generation and switched in at once — or,
 * when they do not fit the capacity, nothing changes. A rule that is there takes the new TTL
 * (and comment), as addRule does.
 */
export function addRules(bl: BlacklistMaps, rules: readonly Rule[], now: bigint): { id: number; existed: boolean }[] {
  if (needingIds(bl, rules, now) <= idsLeft(bl)) return rules.map((r) => addRule(bl, r, expiresAt(r.ttl, now), now));
  const set: ReplaceInput[] = gc(bl, bl.read(), now).kept.map((x) => ({ rule: x, expires: x.expires, hits: bl.hits(x.id) }));
  const at = new Map(set.map((x, i) => [(x.rule as StoredRule).id, i]));
  const existed = rules.map((r) => {
    const i = at.get(bl.locate(r) ?? 0);
    if (i === undefined) return false;
    set[i] = { ...set[i], rule: r.comment === undefined ? set[i].rule : { ...set[i].rule, comment: r.comment }, expires: expiresAt(r.ttl, now) };
    return true;
  });
  rules.forEach((r, i) => existed[i] || set.push({ rule: r, expires: expiresAt(r.ttl, now) }));
  bl.replace(set);
  return rules.map((r, i) => ({ id: bl.locate(r) ?? 0, existed: existed[i] }));
}

/** Up to this many new rules, a merge import adds them one by one instead of rebuilding. */
export const INCREMENTAL_MAX = 20_000;

/**
 * Load rules. With --replace, or many new rules: a full rebuild in the idle generation and one
 * switch (with --replace the new rules alone, otherwise the live rules, with their counters and
 * TTLs, plus the new ones). A few new rules merged into a big set are added one by one, each
 * live at once, at a cost that does not grow with the size of the set. `drop`: live rules to
 * leave out of a merge (found by the entries they own) — a feed's rules it no longer lists;
 * forces the rebuild, so the removals and the additions are switched in together.
 */
export function importRules(ifname: string, bl: BlacklistMaps, parsed: ParsedFile, replace: boolean, drop?: readonly Rule[]): ImportSummary {
  const rules = parsed.rules;
  const now = clockNs();
  const read = ruleCount(parsed);
  // One by one only when the ids are there for every rule: a rule that does not fit must leave
  // the set as it was, which the rebuild below guarantees (it checks the capacity first).
  if (!replace && read <= INCREMENTAL_MAX && !drop?.length && needingIds(bl, allRules(parsed), now) <= idsLeft(bl)) {
    checkNoteRoom(bl, rules);
    let duplicates = 0;
    for (const r of allRules(parsed)) if (addRule(bl, r, expiresAt(r.ttl, now), now).existed) duplicates++;
    return { interface: ifname, read, duplicates, total: null, added: read - duplicates, removed: 0, replace, method: "incremental" };
  }
  const set: ReplaceInput[] = [];
  let kept = 0, removed = 0;
  if (!replace) {
    const dropIds = new Set<number>();
    for (const r of drop ?? []) {
      const id = bl.locate(r);
      if (id !== null) dropIds.add(id);
    }
    for (const r of gc(bl, bl.read(), now).kept) {
      if (dropIds.has(r.id)) removed++;
      else set.push({ rule: r, expires: r.expires, hits: bl.hits(r.id) });
    }
    kept = set.length;
  }
  for (const r of rules) set.push({ rule: r, expires: expiresAt(r.ttl, now) });
  const timing = bl.replace(set, parsed.bare4, parsed.bare6, true); // the caller frees the old set (freeIdleInBackground)
  return { interface: ifname, read, duplicates: timing.duplicates, total: timing.rules, added: timing.rules - kept, removed, replace, method: "rebuild", timing };
}

/**
 * Free a replaced rule set after the command that replaced it has returned: a detached
 * `xdptool blacklist gc` takes the lock and empties the idle generation (docs/A-measurements.md: how long per million
 * entries). Safe to lose: the next replace empties the idle generation first anyway.
 */
export async function freeIdleInBackground(ifname: string): Promise<void> {
  const { spawn } = await import("node:child_process");
  const { selfArgv } = await import("../self.ts");
  const [cmd, ...pre] = selfArgv();
  const child = spawn(cmd, [...pre, "blacklist", "gc", "-i", ifname, "--quiet"], { detached: true, stdio: "ignore" });
  child.on("error", () => {}); // nothing to report to: the next replace frees it
  child.unref();
}
