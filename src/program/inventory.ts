// inventory.ts — which XDP program runs on which interface, and whose it is.
// Shared by `status`, `stats` and the lab: one walk over namespaces and interfaces.
import { ownedLink } from "./owned.ts";
import { closeFd } from "../ffi/fd.ts";
import { enterNetns, namedNetns, type Iface } from "../ffi/netns.ts";
import { Netlink, type XdpLink } from "../ffi/netlink.ts";
import { progSummaryById } from "../ffi/prog.ts";
import { xdpQuery, xdpState, type XdpState } from "../ffi/xdp.ts";
import { hostPath, pinDir } from "../ffi/bpffs.ts";
import { COMBINED, enabledFeatures } from "../combined/bits.ts";
import { clearStaleSampler } from "../sampler/stage.ts";

export interface IfaceStatus {
  interface: string;
  netns: string | null;
  ifindex: number;
  mode: string | null;
  program: string | null;
  id: number | null;
  tag: string | null;
  owner: "xdptool" | "foreign" | null;
  pinDir: string | null;
  /** Features switched on in xdptool's combined program (blacklist, responder, sampler). */
  features: string[];
}

export function ifaceStatus(iface: Iface, state: XdpState = xdpQuery(iface.ifindex)): IfaceStatus {
  const base: IfaceStatus = { interface: iface.name, netns: iface.netns, ifindex: iface.ifindex, mode: null, program: null, id: null, tag: null, owner: null, pinDir: null, features: [] };
  if (!state.progId) return base;
  const p = progSummaryById(state.progId);
  const owned = ownedLink(iface, state);
  if (owned) closeFd(owned.fd);
  if (owned && p.name === COMBINED) clearStaleSampler(iface.name);
  const features = owned && p.name === COMBINED ? enabledFeatures(iface.name) : [];
  return { ...base, mode: state.mode, program: p.name, id: p.id, tag: p.tag, owner: owned ? "xdptool" : "foreign", pinDir: owned ? hostPath(pinDir(iface.name)) : null, features };
}

/**
 * Every interface of this namespace, and those of named namespaces that run an XDP program
 * (a lab's interfaces live there). Leaves the thread back in its own namespace.
 */
export function inventory(opts: { all?: boolean } = {}): IfaceStatus[] {
  const out: IfaceStatus[] = [];
  for (const ns of [null, ...namedNetns()]) {
    try {
      enterNetns(ns);
    } catch (e) {
      if (ns !== null) continue; // deleted since it was listed (another lab going down): not ours to show
      throw e;
    }
    const nl = Netlink.open(); // after entering: a socket belongs to the namespace it was made in
    let links: XdpLink[];
    try {
      links = nl.xdpLinks();
    } finally {
      nl.close();
    }
    for (const l of links) {
      const s = ifaceStatus({ name: l.name, ifindex: l.ifindex, netns: ns }, xdpState(l));
      if (ns === null || s.id !== null || opts.all) out.push(s);
    }
  }
  enterNetns(null);
  return out;
}
