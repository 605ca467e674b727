// lifecycle.ts — switch the responder on in xdptool's combined program (attaching the program if
// needed, or re-configuring the running responder live), and off again.
import { detach } from "../program/attach.ts";
import type { Iface } from "../ffi/netns.ts";
import { OpError } from "../errors.ts";
import { COMBINED, enabledFeatures, setFeature } from "../combined/bits.ts";
import { disableFeature, ensureCombined, ownProgram, withProgramLock } from "../combined/program.ts";
import { hasResponder, writeConfig, writeLocal } from "./maps.ts";
import { hostView, startWatcher } from "./local.ts";
import type { ResponderConfig } from "./config.ts";

/** Is the DNS responder switched on in xdptool's combined program on this interface? */
export function runsResponder(iface: Iface): boolean {
  return ownProgram(iface) === COMBINED && enabledFeatures(iface.name).includes("responder") && hasResponder(iface.name);
}

export interface EnableResult {
  interface: string;
  netns: string | null;
  progId: number;
  /** "attached"/"upgraded": the combined program was put there; "enabled": switched on in it;
   *  "reconfigured": it was on (maps rewritten in place, no re-attach, counters kept). */
  action: "attached" | "upgraded" | "enabled" | "reconfigured";
  mode: string;
  /** xdptool's single-purpose program the combined one replaced (e.g. "hello"). */
  replaced?: string;
}

/** Configure the responder stage of the combined program already on the interface, then switch
 *  it on: the configuration and the host's addresses first, so it never runs half-configured. */
export function switchOn(iface: Iface, cfg: ResponderConfig, host = hostView(iface)): void {
  writeLocal(iface.name, host.local);
  writeConfig(iface.name, cfg, host.mac);
  setFeature(iface.name, "responder", true);
}

export function enable(iface: Iface, cfg: ResponderConfig, opts: { mode?: "auto" | "native" | "skb"; force?: boolean; noWatch?: boolean } = {}): EnableResult {
  const host = hostView(iface);
  const { r, wasOn } = withProgramLock(iface.name, () => {
    const wasOn = runsResponder(iface);
    const r = ensureCombined(iface, { ...opts, responderFollows: true });
    try {
      switchOn(iface, cfg, host);
    } catch (e) {
      if (r.action === "attached") detach(iface); // nothing half-applied
      throw e;
    }
    return { r, wasOn };
  });
  // Addresses added later (and removed ones) reach the program through the watcher.
  if (!opts.noWatch) startWatcher(iface);
  const action = wasOn ? "reconfigured" : r.action === "running" ? "enabled" : r.action;
  return { interface: iface.name, netns: iface.netns, progId: r.progId, action, mode: r.mode, replaced: r.replaced };
}

/** Switch the responder off; the program goes too when no other feature is left on. */
export function disable(iface: Iface): { interface: string; progId: number; detached: boolean } {
  if (!runsResponder(iface)) throw new OpError(`${iface.name} runs no DNS responder of xdptool (xdptool status shows what runs there)`);
  const r = disableFeature(iface, "responder");
  return { interface: iface.name, progId: r.progId, detached: r.detached };
}
