// attach.ts — put a program on an interface so it stays there, and take it off again.
//
// Ownership model: xdptool attaches through a bpf_link pinned at <bpffs>/xdptool/<ifname>/link,
// with the program's maps pinned beside it. The pin keeps the program attached after xdptool
// exits; a program on the interface that is not behind our link is "foreign" and left alone
// unless --force. Re-loading swaps the program inside the link (atomic: no instant without one),
// reusing pinned maps whose shape still fits, so counters and rules survive an upgrade.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { OpError, UsageError } from "../errors.ts";
import { BpfError } from "../ffi/error.ts";
import { BpfObject, BPF_PROG_TYPE_XDP, type MapHandle, type ProgramHandle } from "../ffi/object.ts";
import { closeFd, fdById, objGet, objPin, withFd } from "../ffi/fd.ts";
import { BpfMap, MAP_TYPES } from "../ffi/map.ts";
import { kernelNeeded, missingHelpers } from "../ffi/probe.ts";
import { release } from "node:os";
import { progInfoById } from "../ffi/prog.ts";
import { ensureDir, linkPin, pinDir, pinnedFiles, pinnedInterfaces, removePinDir, renamePin, stagingName, unpin, hostPath } from "../ffi/bpffs.ts";
import { FORMER_NAMES, pinIn } from "../maps/renamed.ts";
import { findXdpLink, linkDetach, linkInfo, linkUpdate, xdpDetachNetlink, xdpLinkCreate, xdpQuery, type LinkInfo, type XdpMode, type XdpState } from "../ffi/xdp.ts";
import type { Iface } from "../ffi/netns.ts";
import { ownedLink, pinnedLink } from "./owned.ts";

export interface AttachRequest {
  iface: Iface;
  image: Uint8Array;
  /** Shown in messages: "hello", "./my.o". */
  objectName: string;
  /** Pick the program by ELF section (e.g. "xdp") or by function name; default: the only XDP one. */
  section?: string;
  program?: string;
  mode?: XdpMode | "auto";
  force?: boolean;
  /** Called after open, before load: set global variables, map sizes… */
  configure?: (obj: BpfObject) => void;
  /** Maps that must start empty even when a compatible pin exists (e.g. a resized set). */
  fresh?: (mapName: string) => boolean;
  /** Name prefixes of maps that hold one state together (a rule set: its records, tables and
   *  config): pinned, they are reused all or not at all — never some old maps beside new ones. */
  together?: string[];
  /** Maps of such a group that pins from an older xdptool lack (added since): when missing, made
   *  new beside the reused ones instead of refusing the mix. */
  newer?: string[];
  /** Array maps whose values have grown at their end since an older xdptool pinned them (config
   *  structs: fields are only ever added at the end, and zero means the default): a pin with
   *  smaller values is carried into the new map, each value zero-extended, before the swap. */
  grown?: string[];
  /** Maps that hold no state (scratch space): a pin of another layout is replaced, no mix. */
  stateless?: string[];
  /** Called once the object is loaded, before it is attached (its maps made, the reused pins
   *  named): state an older program kept in another form goes into the new maps here. Throwing
   *  leaves everything as it was. */
  prepare?: (obj: BpfObject, reused: string[]) => void;
}

export interface AttachResult {
  progId: number;
  progName: string;
  mode: XdpMode;
  replaced: "none" | "xdptool" | "foreign";
  reusedMaps: string[];
  pinDir: string;
  note?: string;
}

/**
 * Pins are kept per interface name, and two network namespaces may each have an interface of the
 * same name. If our directory's link is live but holds another interface's program, the pins are
 * that interface's: replacing or removing them would silently take its program off. Refuse.
 */
export function refuseOthersPins(iface: Iface, state: XdpState = xdpQuery(iface.ifindex)): void {
  const why = othersPins(iface, state);
  if (why) throw new OpError(why);
}

/** Why the pins under this interface's name are another interface's (null: they are not). */
function othersPins(iface: Iface, state: XdpState): string | null {
  const dir = pinDir(iface.name), link = pinnedLink(dir);
  if (!link || link.ifindex === 0) return null; // none, or detached from outside: ours to reuse
  if (link.ifindex === iface.ifindex && link.progId === state.progId) return null; // ours
  const p = progInfoById(link.progId);
  return (
    `${iface.name}: ${hostPath(dir)} holds the pins of another interface named ${iface.name} (XDP link ${link.id}, program "${p.name}" id ${p.id}, ` +
    `ifindex ${link.ifindex}, another network namespace); xdptool keeps pins per interface name: rename one of the two`
  );
}

/** The XDP program of an object that the request names (by function or section), or its only one. */
export function pickProgram(obj: BpfObject, req: Pick<AttachRequest, "objectName" | "program" | "section">): ProgramHandle {
  const progs = obj.programs();
  const list = progs.map((p) => `${p.name} (section ${p.section})`).join(", ") || "none";
  let found: ProgramHandle[];
  if (req.program) found = progs.filter((p) => p.name === req.program);
  else if (req.section) found = progs.filter((p) => p.section === req.section);
  else found = progs.filter((p) => p.type === BPF_PROG_TYPE_XDP);
  const what = req.program ? `program "${req.program}"` : req.section ? `section "${req.section}"` : "XDP program";
  if (found.length === 0) throw new UsageError(`no ${what} in ${req.objectName} (it has: ${list})`);
  if (found.length > 1) throw new UsageError(`${req.objectName} has several XDP programs (${list}): choose one with --section or --name`);
  if (found[0].type !== BPF_PROG_TYPE_XDP) throw new UsageError(`${found[0].name} in ${req.objectName} is not an XDP program (section ${found[0].section}; XDP programs use SEC("xdp"))`);
  return found[0];
}

/** Reuse pinned maps whose type and sizes match; returns the names reused. */
function reusePinnedMaps(obj: BpfObject, maps: MapHandle[], dir: string): string[] {
  const reused: string[] = [];
  for (const m of maps) {
    const path = pinIn(dir, m.name); // a pin of an older xdptool may know it by its former name
    if (!existsSync(path)) continue;
    const pinned = BpfMap.pinned(path);
    try {
      // A changed layout (type, key or value) cannot be reused: the new program gets a fresh
      // map and the old pin is replaced when the new program is attached. A different size is
      // not a layout change: the pinned map keeps its size (and its contents) — resizing is the
      // caller's explicit choice (AttachRequest.fresh).
      const i = pinned.info;
      if (i.type === m.type && i.keySize === m.keySize && i.valueSize === m.valueSize) {
        obj.reuseMap(m, pinned.fd);
        reused.push(m.name);
      }
    } finally {
      pinned.close();
    }
  }
  return reused;
}

/** The pins, opened, of array maps that have grown since they were pinned (same type and key;
 *  larger values, or as large and more of them): what AttachRequest.grown carries over. */
function grownPins(maps: MapHandle[], dir: string): Map<string, BpfMap> {
  const out = new Map<string, BpfMap>();
  for (const m of maps) {
    const path = pinIn(dir, m.name);
    if (!["array", "percpu_array"].includes(MAP_TYPES[m.type]) || !existsSync(path)) continue;
    const old = BpfMap.pinned(path);
    const i = old.info;
    const grew = i.valueSize < m.valueSize || (i.valueSize === m.valueSize && i.maxEntries < m.maxEntries);
    if (i.type === m.type && i.keySize === m.keySize && grew) out.set(m.name, old);
    else old.close();
  }
  return out;
}

/** Every value of `from` into `to` (an array of as large or larger values), zero-extended; per
 *  CPU for per-CPU arrays (each CPU's value sits in an 8-byte-aligned slot). */
function carryValues(from: BpfMap, to: BpfMap): void {
  const slot = (m: BpfMap) => (m.perCpu ? Math.ceil(m.info.valueSize / 8) * 8 : m.info.valueSize);
  const cpus = from.valueBytes / slot(from);
  const key = Buffer.alloc(4);
  for (let i = 0; i < Math.min(from.info.maxEntries, to.info.maxEntries); i++) {
    key.writeUInt32LE(i);
    const v = from.lookup(key);
    if (!v) continue;
    const wide = Buffer.alloc(to.valueBytes);
    for (let c = 0; c < cpus; c++) v.copy(wide, c * slot(to), c * slot(from), c * slot(from) + from.info.valueSize);
    to.update(key, wide);
  }
}

/** A group of maps of which some pins fit and others are missing or of another layout: the pins
 *  were changed from outside (or by a crash mid-way); taking the fitting ones would mix states. */
function refuseMix(iface: Iface, dir: string, group: MapHandle[], reused: string[]): void {
  const kept = group.filter((m) => reused.includes(m.name));
  if (kept.length === 0 || kept.length === group.length) return;
  const bad = group.filter((m) => !reused.includes(m.name)).map((m) => `${m.name} ${existsSync(join(dir, m.name)) ? "of another layout" : "missing"}`);
  throw new OpError(
    `${iface.name}: the pinned maps under ${hostPath(dir)} do not belong together (${bad.join(", ")}; ${kept.length} others fit): changed from outside? ` +
      `Nothing was changed; \`xdptool unload ${iface.name}\` removes them all (and their state)`,
  );
}

function describe(state: XdpState): string {
  const p = progInfoById(state.progId);
  return `"${p.name}" (id ${p.id}, ${state.mode} mode)`;
}

export function attach(req: AttachRequest): AttachResult {
  const { iface } = req;
  // Before the verifier sees it: on an old kernel one line naming the release needed, not a log.
  const missing = missingHelpers(req.objectName);
  if (missing.length) throw new OpError(`${req.objectName} needs Linux ${kernelNeeded(req.objectName)} or newer (this kernel lacks ${missing.join(", ")}); it runs ${release()}`);
  const obj = BpfObject.open(req.image, req.objectName);
  const dir = pinDir(iface.name);
  let newLink = -1;
  const staged: string[] = [];
  try {
    const prog = pickProgram(obj, req);
    obj.selectProgram(prog);
    req.configure?.(obj);
    const state = xdpQuery(iface.ifindex);
    const owned = ownedLink(iface, state);
    if (!owned) refuseOthersPins(iface, state);
    if (state.progId && !owned && !req.force) {
      throw new OpError(`${iface.name} already runs XDP program ${describe(state)} that xdptool did not load; --force replaces it`);
    }
    const maps = obj.maps().filter((m) => !m.internal);
    // Pinned maps are state (rules, settings, counters): reused whenever their layout fits, also
    // when our program is no longer attached — detached from outside (bpftool link detach), or
    // gone with a crash. A re-attach picks the state up where it was; it never starts empty
    // behind the user's back.
    const carried = grownPins(maps.filter((m) => req.grown?.includes(m.name) && !req.fresh?.(m.name)), dir);
    const reusable = maps.filter((m) => !req.fresh?.(m.name) && !carried.has(m.name));
    const reusedMaps = reusePinnedMaps(obj, reusable, dir);
    const added = (m: MapHandle) => req.newer?.includes(m.name) && !existsSync(join(dir, m.name));
    const inMix = (m: MapHandle) => !added(m) && !carried.has(m.name) && !req.stateless?.includes(m.name);
    try {
      for (const prefix of req.together ?? []) refuseMix(iface, dir, reusable.filter((m) => m.name.startsWith(prefix) && inMix(m)), reusedMaps);
      obj.load();
      for (const [name, old] of carried) carryValues(old, new BpfMap(obj.mapFd(maps.find((m) => m.name === name)!)));
      req.prepare?.(obj, reusedMaps);
    } finally {
      for (const old of carried.values()) old.close();
    }
    const progFd = obj.progFd(prog);

    // Stage new map pins under temporary names; they replace the old pins only once attached.
    ensureDir(dir);
    for (const m of maps.filter((m) => !reusedMaps.includes(m.name))) {
      const tmp = join(dir, stagingName(m.name));
      unpin(tmp);
      objPin(obj.mapFd(m), tmp);
      staged.push(m.name);
    }

    let mode: XdpMode;
    let note: string | undefined;
    const want = req.mode ?? "auto";
    let replaced: AttachResult["replaced"] = "none";
    if (owned && (want === "auto" || want === state.mode)) {
      linkUpdate(owned.fd, progFd); // atomic swap
      closeFd(owned.fd);
      mode = state.mode as XdpMode;
      replaced = "xdptool";
    } else {
      if (owned) {
        // A mode change cannot be done inside a link: the old attachment must go first.
        if (!req.force) throw new UsageError(`${iface.name} runs xdptool's program in ${state.mode} mode; switching to ${want} mode detaches it for a moment: add --force`);
        linkDetach(owned.fd);
        closeFd(owned.fd);
        replaced = "xdptool";
      } else if (state.progId) {
        detachForeign(iface, state);
        replaced = "foreign";
      }
      ({ fd: newLink, mode, note } = createLink(progFd, iface, want));
      const linkTmp = join(dir, stagingName("link"));
      unpin(linkTmp);
      objPin(newLink, linkTmp);
      renamePin(linkTmp, join(dir, "link"));
    }
    // Commit: staged maps take their final names; pins of maps the new program does not have go.
    for (const name of staged) renamePin(join(dir, stagingName(name)), join(dir, name));
    const keep = new Set(["link", ...maps.map((m) => m.name)]);
    // Renamed maps: pinned under today's name (a reused pin may have had only the former one),
    // and, for one release, under the former name too, for scripts that read it (maps/renamed.ts).
    for (const m of maps) {
      const before = FORMER_NAMES[m.name];
      if (!before) continue;
      linkPin(pinIn(dir, m.name), join(dir, m.name));
      linkPin(join(dir, m.name), join(dir, before));
      keep.add(before);
    }
    for (const f of pinnedFiles(dir)) if (!keep.has(f)) unpin(join(dir, f));
    const info = progInfoById(xdpQuery(iface.ifindex).progId);
    return { progId: info.id, progName: info.name, mode, replaced, reusedMaps, pinDir: hostPath(dir), note };
  } catch (e) {
    for (const name of staged) unpin(join(dir, stagingName(name)));
    unpin(join(dir, stagingName("link")));
    if (pinnedFiles(dir).length === 0) removePinDir(dir);
    throw e;
  } finally {
    closeFd(newLink); // the pin (if made) holds the link now
    obj.close();
  }
}

export function createLink(progFd: number, iface: Iface, want: XdpMode | "auto"): { fd: number; mode: XdpMode; note?: string } {
  if (want !== "auto") return { fd: xdpLinkCreate(progFd, iface.ifindex, want), mode: want };
  try {
    return { fd: xdpLinkCreate(progFd, iface.ifindex, "native"), mode: "native" };
  } catch (e) {
    // No native XDP in this driver: generic (skb) mode works everywhere, slower.
    if (!(e instanceof BpfError) || ![95, 22, 524].includes(e.errno)) throw e;
    return { fd: xdpLinkCreate(progFd, iface.ifindex, "skb"), mode: "skb", note: `${iface.name} has no native XDP support: attached in skb (generic) mode` };
  }
}

/** Remove someone else's program: through its bpf_link if it has one, else through netlink. */
function detachForeign(iface: Iface, state: XdpState): void {
  const link = findXdpLink(iface.ifindex, state.progId);
  if (link) {
    withFd(fdById("link", link.id), linkDetach);
    return;
  }
  for (const mode of ["native", "skb", "hw"] as const) if (state[mode]) xdpDetachNetlink(iface.ifindex, mode);
}

export interface DetachResult {
  progId: number;
  progName: string;
  owner: "xdptool" | "foreign";
  /** No program was attached: only the pins left behind were removed (how many). */
  removedPins?: number;
}

/**
 * The pins of an interface that is gone (deleted while our program ran on it): its link, detached
 * by the kernel with the interface, holds nothing. They are kept — an interface made again under
 * the name adopts the rules — until `unload NAME` asks for them; this removes them and says how
 * many there were. null: no such pins, or their link still holds a program (an interface renamed
 * elsewhere: not ours to judge by name).
 */
export function removeOrphanPins(name: string): number | null {
  const dir = pinDir(name);
  if (!existsSync(dir)) return null;
  const link = pinnedLink(dir);
  if (link && link.ifindex !== 0) return null;
  const n = pinnedFiles(dir).length;
  removePinDir(dir);
  return n;
}

/** Take xdptool's program (or, with force, anyone's) off an interface and remove our pins. */
export function detach(iface: Iface, force = false): DetachResult {
  const state = xdpQuery(iface.ifindex);
  const dir = pinDir(iface.name);
  const owned = ownedLink(iface, state);
  if (!state.progId) {
    // Pins left without a program (detached from outside, a crash): removing them is the unload.
    const left = othersPins(iface, state) ? [] : pinnedFiles(dir);
    if (left.length) removePinDir(dir);
    if (left.length) return { progId: 0, progName: "", owner: "xdptool", removedPins: left.length };
    throw new OpError(`${iface.name} has no XDP program to unload`);
  }
  if (!owned) refuseOthersPins(iface, state);
  const info = progInfoById(state.progId);
  if (owned) {
    try {
      linkDetach(owned.fd);
    } finally {
      closeFd(owned.fd);
    }
    removePinDir(dir);
    return { progId: info.id, progName: info.name, owner: "xdptool" };
  }
  if (!force) throw new OpError(`${iface.name} runs XDP program ${describe(state)} that xdptool did not load; --force removes it anyway`);
  detachForeign(iface, state);
  removePinDir(dir);
  return { progId: info.id, progName: info.name, owner: "foreign" };
}
