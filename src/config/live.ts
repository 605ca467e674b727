// live.ts — what xdptool runs on an interface now, read back from the kernel (the program on the
// interface, its feature bits, the rules in the blacklist maps, the responder's maps): what
// `save` writes and what `apply` compares the file with. Nothing comes from a cache.
import { ownedLink } from "../program/owned.ts";
import { closeFd } from "../ffi/fd.ts";
import { progInfoById } from "../ffi/prog.ts";
import { xdpQuery } from "../ffi/xdp.ts";
import { enterNetns, ifIndex, namedNetns, type Iface } from "../ffi/netns.ts";
import { COMBINED, enabledFeatures, type Feature } from "../combined/bits.ts";
import { pinnedCapacity, withBlacklist } from "../blacklist/store.ts";
import { clockNs } from "../ffi/clock.ts";
import { hasResponder, readConfig, type ResponderState } from "../responder/maps.ts";
import type { StoredRule } from "../blacklist/maps.ts";
import { readNotes } from "../blacklist/notes.ts";
import { UsageError } from "../errors.ts";

export interface LiveInterface {
  iface: Iface;
  /** Name of xdptool's program on it (null: none of ours). */
  program: string | null;
  progId: number | null;
  mode: string | null;
  features: Feature[];
  /** A program xdptool did not load (left alone: apply refuses the interface). */
  foreign: { id: number; name: string } | null;
  /** Pinned blacklist maps: their size and live rules (expired ones left out). */
  blacklist: { capacity: number; rules: StoredRule[] } | null;
  responder: ResponderState | null;
}

/** The interface `name` in `netns` (null: xdptool's own namespace, and only there), entered. */
export function findIface(name: string, netns: string | null): Iface {
  if (netns !== null && !namedNetns().includes(netns)) throw new UsageError(`no network namespace "${netns}" (see \`ip netns list\`)`);
  enterNetns(netns);
  const ifindex = ifIndex(name);
  if (!ifindex) throw new UsageError(`no interface "${name}" ${netns ? `in network namespace ${netns}` : "in this network namespace"}`);
  return { name, ifindex, netns };
}

/** Read one interface's state (the thread is left in its namespace). */
export function readLive(iface: Iface): LiveInterface {
  enterNetns(iface.netns);
  const st = xdpQuery(iface.ifindex);
  const owned = st.progId ? ownedLink(iface, st) : null;
  if (owned) closeFd(owned.fd);
  const program = owned ? progInfoById(owned.progId).name : null;
  const combined = program === COMBINED;
  const features = combined ? enabledFeatures(iface.name) : [];
  const capacity = combined ? pinnedCapacity(iface.name) : undefined;
  const blacklist = capacity === undefined ? null : withBlacklist(iface.name, (bl) => {
    const now = clockNs(), notes = readNotes(bl.maps.bl_notes);
    const rules = bl.read().filter((r) => r.expires === 0n || r.expires > now);
    return { capacity, rules: notes.size ? rules.map((r) => (notes.has(r.id) ? { ...r, comment: notes.get(r.id) } : r)) : rules };
  });
  const responder = combined && features.includes("responder") && hasResponder(iface.name) ? readConfig(iface.name) : null;
  const foreign = st.progId && !owned ? { id: st.progId, name: progInfoById(st.progId).name } : null;
  return { iface, program, progId: owned ? owned.progId : null, mode: owned ? st.mode : null, features, foreign, blacklist, responder };
}
