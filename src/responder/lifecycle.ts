// lifecycle.ts — put the responder on an interface (or re-configure the one there, live) and
// take it off again.
import { attach, detach, ownedLink } from "../attach.ts";
import { closeFd } from "../ffi/fd.ts";
import { progInfoById } from "../ffi/prog.ts";
import { xdpQuery } from "../ffi/xdp.ts";
import type { Iface } from "../ffi/netns.ts";
import { OpError } from "../errors.ts";
import { embeddedObject } from "../embedded.ts";
import { hasResponder, writeConfig } from "./maps.ts";
import type { ResponderConfig } from "./config.ts";

export const PROGRAM = "responder";

/** Is xdptool's responder the program attached to this interface? */
export function runsResponder(iface: Iface): boolean {
  const owned = ownedLink(iface, xdpQuery(iface.ifindex));
  if (!owned) return false;
  closeFd(owned.fd);
  return progInfoById(owned.progId).name === PROGRAM && hasResponder(iface.name);
}

export interface EnableResult {
  interface: string;
  netns: string | null;
  progId: number;
  /** "attached" the first time; "reconfigured" when it was running (maps rewritten, no re-attach). */
  action: "attached" | "reconfigured";
  mode: string;
}

export function enable(iface: Iface, cfg: ResponderConfig, opts: { mode?: "auto" | "native" | "skb"; force?: boolean } = {}): EnableResult {
  if (runsResponder(iface)) {
    writeConfig(iface.name, cfg);
    const st = xdpQuery(iface.ifindex);
    return { interface: iface.name, netns: iface.netns, progId: st.progId, action: "reconfigured", mode: st.mode ?? "?" };
  }
  // Freshly attached, its config entry is all zero, which answers nothing (every packet passes)
  // until writeConfig below switches it on.
  const r = attach({ iface, image: embeddedObject(PROGRAM)!, objectName: PROGRAM, mode: opts.mode, force: opts.force });
  try {
    writeConfig(iface.name, cfg);
  } catch (e) {
    detach(iface); // nothing half-applied
    throw e;
  }
  return { interface: iface.name, netns: iface.netns, progId: r.progId, action: "attached", mode: r.mode };
}

export function disable(iface: Iface): { interface: string; progId: number } {
  if (!runsResponder(iface)) throw new OpError(`${iface.name} runs no DNS responder of xdptool (xdptool status shows what runs there)`);
  const r = detach(iface);
  return { interface: iface.name, progId: r.progId };
}
