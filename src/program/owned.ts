// owned.ts — whether the XDP program on an interface is xdptool's: held by the bpf_link pinned at
// <bpffs>/xdptool/<ifname>/link (attach.ts's ownership model). Apart from attach.ts so that what
// only asks (status, stats) does not load the object loader, probes and map code with it.
import { closeFd, objGet, withFd } from "../ffi/fd.ts";
import { pinDir, pinnedInterfaces, renamePin } from "../ffi/bpffs.ts";
import { exists } from "../ffi/files.ts";
import { linkInfo, xdpQuery, type LinkInfo, type XdpState } from "../ffi/xdp.ts";
import type { Iface } from "../ffi/netns.ts";

/** The pinned link in `dir`, if any: its info (ifindex 0 once detached from outside). */
export function pinnedLink(dir: string): LinkInfo | null {
  const path = `${dir}/link`;
  return exists(path) ? withFd(objGet(path), linkInfo) : null;
}

/** Our link on this interface, if the pin is there and still holds the attached program. An
 *  interface renamed since finds its pins under the old name: they move to the new one. */
export function ownedLink(iface: Iface, state: XdpState = xdpQuery(iface.ifindex)): { fd: number; progId: number } | null {
  const path = `${pinDir(iface.name)}/link`;
  if (!exists(path)) adoptRenamed(iface, state);
  if (!exists(path)) return null;
  const fd = objGet(path);
  const info = linkInfo(fd);
  if (info.ifindex === iface.ifindex && info.progId === state.progId && state.progId !== 0) return { fd, progId: info.progId };
  closeFd(fd);
  return null;
}

/** Pins are kept per interface name. After `ip link set X name Y` our program still runs on Y
 *  behind the link pinned under X: find that directory (its live link holds exactly this
 *  interface's program) and rename it, so every command finds rules and counters under Y. */
function adoptRenamed(iface: Iface, state: XdpState): void {
  if (!state.progId) return;
  for (const name of pinnedInterfaces()) {
    if (name === iface.name) continue;
    const dir = pinDir(name), link = pinnedLink(dir);
    if (link && link.ifindex === iface.ifindex && link.progId === state.progId) {
      renamePin(dir, pinDir(iface.name));
      return;
    }
  }
}
