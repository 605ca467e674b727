// features.ts — the combined program (bpf/xdptool.bpf.c) and its features, switched live.
//
// Every feature command (blacklist, responder, sampler) goes through here: make sure the
// combined program runs on the interface (attaching it, or upgrading xdptool's own program in
// place with an atomic swap that keeps every pinned map), then flip the feature's bit in the
// pinned `xdptool_features` map. Enabling or disabling one feature never touches the others.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { attach, detach, ownedLink } from "./attach.ts";
import { closeFd } from "./ffi/fd.ts";
import { BpfMap } from "./ffi/map.ts";
import { pinDir } from "./ffi/bpffs.ts";
import { progInfoById } from "./ffi/prog.ts";
import { xdpQuery, type XdpMode } from "./ffi/xdp.ts";
import type { Iface } from "./ffi/netns.ts";
import { embeddedObject } from "./embedded.ts";
import { tryLock, withLock } from "./ffi/lock.ts";
import { UsageError } from "./errors.ts";
import { sizeMaps } from "./blacklist/maps.ts";
import { DEFAULT_BUFFER_MIB } from "./sample/layout.ts";
import type { BpfObject } from "./ffi/object.ts";
import { pinnedCapacity, withBlacklist } from "./blacklist/store.ts";
import { clockNs } from "./ffi/clock.ts";

/** Bits of struct xt_features.enabled (bpf/include/xdptool.h), in stage order. */
export const FEATURE_BITS = { blacklist: 1, responder: 2, sampler: 4 } as const;
export type Feature = keyof typeof FEATURE_BITS;
export const COMBINED = "xdptool";
/** XT_LAYOUT_VERSION in bpf/include/xdptool.h (checked by test/compose.test.ts). */
export const LAYOUT_VERSION = 2;
const FEATURES_MAP = "xdptool_features";

/** Name of xdptool's program on the interface, or null when none of ours runs there. */
export function ownProgram(iface: Iface): string | null {
  const owned = ownedLink(iface, xdpQuery(iface.ifindex));
  if (!owned) return null;
  closeFd(owned.fd);
  return progInfoById(owned.progId).name;
}

export interface EnsureResult {
  progId: number;
  mode: string;
  /** running: it was there already; attached: first program here; upgraded: replaced our own. */
  action: "running" | "attached" | "upgraded";
  /** The xdptool program it replaced (e.g. "hello"), when upgraded. */
  replaced?: string;
}

/** Blacklist capacity of a combined program attached for another feature first (≈ 56 MiB). */
export const DEFAULT_BLACKLIST_RULES = 65_536;
/** What `blacklist attach` sizes an empty blacklist for (standalone or joining the program). */
export const ATTACH_BLACKLIST_RULES = 1_200_000;

/** Nothing in the blacklist's maps (live or expired): they can be recreated at another size. */
export function blacklistEmpty(ifname: string): boolean {
  return withBlacklist(ifname, (bl) => {
    const { live, expired } = bl.census(clockNs());
    return live + expired.length === 0;
  });
}

export interface EnsureOptions {
  mode?: XdpMode | "auto";
  force?: boolean;
  /** Size the blacklist maps for this many rules (`blacklist attach --max-rules`). */
  blacklistRules?: number;
}

/** The combined program's ring buffer serves every capture on the interface: the size a
 *  standalone capture gets by default (`sample --buffer` cannot resize it later). */
function sizeSampleRing(obj: BpfObject): void {
  const ring = obj.maps().find((m) => m.name === "xt_sample_ring");
  if (ring) obj.setMaxEntries(ring, DEFAULT_BUFFER_MIB << 20);
}

/** The combined program, running on the interface (nothing changes if it already is). */
export function ensureCombined(iface: Iface, opts: EnsureOptions = {}): EnsureResult {
  const own = ownProgram(iface);
  if (own === COMBINED) clearStaleSampler(iface.name);
  const current = pinnedCapacity(iface.name);
  const resize = opts.blacklistRules !== undefined && current !== undefined && opts.blacklistRules !== current;
  if (own === COMBINED && !resize) {
    const st = xdpQuery(iface.ifindex);
    const want = opts.mode ?? "auto";
    if (want !== "auto" && want !== st.mode) {
      throw new UsageError(`${iface.name} runs xdptool in ${st.mode} mode; switching to ${want} mode re-attaches it: xdptool load ${iface.name} xdptool --mode ${want} --force`);
    }
    return { progId: st.progId, mode: st.mode ?? "?", action: "running" };
  }
  // New blacklist maps of another size start empty: only allowed while there is nothing to lose.
  if (resize && own === COMBINED && !blacklistEmpty(iface.name)) {
    throw new UsageError(`the blacklist on ${iface.name} holds up to ${current} rules and has rules; to resize: xdptool blacklist export > rules.txt, xdptool blacklist flush, xdptool blacklist attach ${iface.name} --max-rules ${opts.blacklistRules}, xdptool blacklist import rules.txt`);
  }
  const rules = opts.blacklistRules ?? current ?? DEFAULT_BLACKLIST_RULES;
  const r = attach({ iface, image: embeddedObject(COMBINED)!, objectName: COMBINED, mode: opts.mode, force: opts.force, configure: (obj) => { sizeMaps(obj, rules); sizeSampleRing(obj); },
    fresh: (name) => resize && name.startsWith("bl_") });
  writeFeatures(iface.name, enabledBits(iface.name)); // stamp the layout version
  return { progId: r.progId, mode: r.mode, action: r.replaced === "xdptool" ? "upgraded" : "attached", replaced: own ?? undefined };
}

function featuresMap(ifname: string): BpfMap | null {
  const path = join(pinDir(ifname), FEATURES_MAP);
  return existsSync(path) ? BpfMap.pinned(path) : null;
}

function enabledBits(ifname: string): number {
  const m = featuresMap(ifname);
  if (!m) return 0;
  try {
    return m.lookup(Buffer.alloc(4))?.readUInt32LE(0) ?? 0;
  } finally {
    m.close();
  }
}

function writeFeatures(ifname: string, bits: number): void {
  const m = featuresMap(ifname);
  if (!m) throw new Error(`${ifname}: the combined program has no ${FEATURES_MAP} map`);
  try {
    const v = Buffer.alloc(8);
    v.writeUInt32LE(bits, 0);
    v.writeUInt32LE(LAYOUT_VERSION, 4);
    m.update(Buffer.alloc(4), v);
  } finally {
    m.close();
  }
}

/** Held by `xdptool sample` for as long as it captures through the combined program. */
export function captureLockPath(ifname: string): string {
  return `/run/xdptool/sample-${ifname}.lock`;
}

/**
 * A capture killed with SIGKILL cannot switch its stage off. Nobody holding the capture lock while
 * the bit is on means exactly that: switch it off (the program keeps running everything else).
 */
export function clearStaleSampler(ifname: string): void {
  if (!(enabledBits(ifname) & FEATURE_BITS.sampler)) return;
  const fd = tryLock(captureLockPath(ifname));
  if (fd === null) return; // a capture is running
  try {
    setFeature(ifname, "sampler", false);
  } finally {
    closeFd(fd);
  }
}

/** Features switched on for the interface (empty when the combined program is not there). */
export function enabledFeatures(ifname: string): Feature[] {
  const bits = enabledBits(ifname);
  return (Object.keys(FEATURE_BITS) as Feature[]).filter((f) => bits & FEATURE_BITS[f]);
}

/** Switch one feature on or off; a lock keeps concurrent commands from losing each other's bits. */
export function setFeature(ifname: string, f: Feature, on: boolean): void {
  withLock(`/run/xdptool/features-${ifname}.lock`, () => {
    const bits = enabledBits(ifname);
    writeFeatures(ifname, on ? bits | FEATURE_BITS[f] : bits & ~FEATURE_BITS[f]);
  });
}

/**
 * Switch a feature off; when it was the last one, take the program off the interface altogether
 * (the interface is back to how it was before the first feature was enabled).
 */
export function disableFeature(iface: Iface, f: Feature): { detached: boolean; progId: number } {
  const progId = xdpQuery(iface.ifindex).progId;
  setFeature(iface.name, f, false);
  if (enabledFeatures(iface.name).length > 0) return { detached: false, progId };
  detach(iface);
  return { detached: true, progId };
}
