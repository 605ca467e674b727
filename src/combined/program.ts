// program.ts — the combined program (bpf/xdptool.bpf.c) on an interface, its features switched live.
//
// Every feature command (blacklist, responder, sampler) goes through here: make sure the
// combined program runs on the interface (attaching it, or upgrading xdptool's own program in
// place with an atomic swap that keeps every pinned map), then flip the feature's bit
// (bits.ts). Enabling or disabling one feature never touches the others. What a load asks of
// each feature — sizes, maps to make anew, state to tidy — comes from its stage module.
import { attach, detach, type AttachResult } from "../program/attach.ts";
import { ownedLink } from "../program/owned.ts";
import { closeFd } from "../ffi/fd.ts";
import { lockFile, withLock } from "../ffi/lock.ts";
import { progInfoById } from "../ffi/prog.ts";
import { xdpQuery } from "../ffi/xdp.ts";
import type { Iface } from "../ffi/netns.ts";
import { embeddedObject } from "../program/embedded.ts";
import { UsageError } from "../errors.ts";
import { COMBINED, LAYOUT_VERSION, enabledBits, enabledFeatures, layoutVersion, setFeature, writeFeatures, type Feature } from "./bits.ts";
import type { EnsureOptions, Stage } from "./stage.ts";
import { blacklistStage } from "../blacklist/stage.ts";
import { NEWER_MAPS } from "../blacklist/layout.ts";
import { samplerStage } from "../sampler/stage.ts";
import { carryOlderNames } from "../responder/names.ts";
import { configNames } from "../responder/maps.ts";
import { BpfMap } from "../ffi/map.ts";

/** The stages with something to say about a load (the responder's maps need no sizing). */
const STAGES: Stage[] = [blacklistStage, samplerStage];

/**
 * Serialise whatever puts a program on, switches a feature on or takes the program off one
 * interface: "is it running? attach; set the bit" and "clear the bit; last one? detach" must not
 * interleave (a responder switched on in a program being detached, two attaches staging the same
 * pins). Not re-entrant: take it once, at the command's level.
 */
export function withProgramLock<T>(ifname: string, fn: () => T): T {
  return withLock(lockFile(`program-${ifname}`), fn);
}

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
  /** What attach() did, when it ran. */
  attached?: AttachResult;
}

/** The combined program, running on the interface (nothing changes if it already is). */
export function ensureCombined(iface: Iface, opts: EnsureOptions = {}): EnsureResult {
  const own = ownProgram(iface);
  const running = own === COMBINED;
  if (running) for (const s of STAGES) s.tidy?.(iface.name);
  const plans = STAGES.map((s) => s.plan(iface.name, running, opts));
  // The pinned maps' layout, as the xdptool that loaded the running program stamped it: an older
  // one's program is upgraded (state carried), a newer one's is not replaced behind its back.
  const layout = running ? layoutVersion(iface.name) : LAYOUT_VERSION;
  if (layout > LAYOUT_VERSION && !opts.force) {
    throw new UsageError(`${iface.name} runs the program of a newer xdptool (map layout ${layout}; this one knows ${LAYOUT_VERSION}): use that xdptool, or \`xdptool load ${iface.name} xdptool --force\` to go back (maps whose layout differs start empty)`);
  }
  if (running && !opts.reload && layout === LAYOUT_VERSION && !plans.some((p) => p.reload)) {
    const st = xdpQuery(iface.ifindex);
    const want = opts.mode ?? "auto";
    // With force, another mode falls through to attach(), which re-attaches in it (maps kept).
    if (want !== "auto" && want !== st.mode && !opts.force) {
      throw new UsageError(`${iface.name} runs xdptool in ${st.mode} mode; switching to ${want} mode re-attaches it: xdptool load ${iface.name} xdptool --mode ${want} --force`);
    }
    if (want === "auto" || want === st.mode) return { progId: st.progId, mode: st.mode ?? "?", action: "running" };
  }
  const r = attach({
    iface, image: embeddedObject(COMBINED)!, objectName: COMBINED, mode: opts.mode, force: opts.force,
    configure: (obj) => plans.forEach((p) => p.configure(obj)),
    fresh: (name) => plans.some((p) => p.fresh?.(name)),
    together: ["bl_", "resp_"],
    // Maps added in 2026-12 (rules' comments, /24s with listed hosts, the responder's readable
    // names and verified sources): pins from before have none to lose, so their absence is no mix.
    newer: [...Object.keys(NEWER_MAPS), "resp_qnames", "resp_verified", "resp_name_table"],
    // Settings and counters that grew since (layout 3: the responder's settings for
    // --unverified-only and its counters for new reasons; layout 2: the undecidable slots of the
    // statistics): carried over, new fields off, new counters from zero.
    grown: ["resp_config", "resp_stats", "xdptool_stats"],
    stateless: ["resp_scratch"],
    // Layout 6: the --qname names are hashed eight bytes a step, into resp_name_table (layout 5:
    // a byte-at-a-time hash in resp_name_slots; before it, a hash map, resp_names).
    // Carried only while a responder runs on them: a switched-off one gets its names written anew
    // by the enable that switches it on again (so does `responder enable` itself).
    prepare: (obj, reused) => {
      const table = obj.maps().find((m) => m.name === "resp_name_table"), config = obj.maps().find((m) => m.name === "resp_config");
      if (!table || !config || reused.includes(table.name)) return;
      if (opts.responderFollows || !enabledFeatures(iface.name).includes("responder")) return;
      const { mul, base } = configNames(new BpfMap(obj.mapFd(config)));
      carryOlderNames(iface.name, new BpfMap(obj.mapFd(table)), mul, base);
    },
  });
  writeFeatures(iface.name, enabledBits(iface.name), LAYOUT_VERSION); // the maps are this build's now
  return { progId: r.progId, mode: r.mode, action: r.replaced === COMBINED ? "upgraded" : "attached", replaced: own ?? undefined, attached: r };
}

/**
 * Switch a feature off; when it was the last one, take the program off the interface altogether
 * (the interface is back to how it was before the first feature was enabled).
 */
export function disableFeature(iface: Iface, f: Feature): { detached: boolean; progId: number } {
  return withProgramLock(iface.name, () => {
    const progId = xdpQuery(iface.ifindex).progId;
    setFeature(iface.name, f, false);
    if (enabledFeatures(iface.name).length > 0) return { detached: false, progId };
    detach(iface);
    return { detached: true, progId };
  });
}
