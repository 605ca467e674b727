// xdp.ts — attaching XDP programs: netlink queries, bpf_link create/update, detach.
import { bpf } from "./native.ts";
import { check } from "./error.ts";
import { Struct } from "./layout.ts";
import { allIds, closeFd, fdById, objInfo, withFd } from "./fd.ts";
import type { XdpLink } from "./netlink.ts";

/** enum xdp_action, in order: an XDP program's verdicts, as xdptool names them everywhere. */
export const XDP_ACTIONS = ["aborted", "drop", "pass", "tx", "redirect"] as const;

export const XDP_FLAGS = { UPDATE_IF_NOEXIST: 1, SKB_MODE: 2, DRV_MODE: 4, HW_MODE: 8, REPLACE: 16 } as const;
export const BPF_XDP = 37; // enum bpf_attach_type
export const BPF_LINK_TYPE_XDP = 6;

export type XdpMode = "native" | "skb" | "hw";
const modeFlag: Record<XdpMode, number> = { native: XDP_FLAGS.DRV_MODE, skb: XDP_FLAGS.SKB_MODE, hw: XDP_FLAGS.HW_MODE };

export interface XdpState {
  /** Program ids per mode (0 = none). */
  native: number;
  skb: number;
  hw: number;
  /** The one program to show, and its mode; "multi" when several modes are used at once. */
  progId: number;
  mode: XdpMode | "multi" | null;
}

/** What XDP program is on an interface (netlink, like `ip link show`). */
export function xdpQuery(ifindex: number): XdpState {
  const o = new Struct("bpf_xdp_query_opts");
  check(`query XDP on ifindex ${ifindex}`, bpf().bpf_xdp_query(ifindex, 0, o.buf));
  return xdpState({ attachMode: o.get("attach_mode"), progId: o.get("prog_id"), drvProgId: o.get("drv_prog_id"), skbProgId: o.get("skb_prog_id"), hwProgId: o.get("hw_prog_id") });
}

/** The state from what the kernel reports (bpf_xdp_query, or Netlink.xdpLinks for every interface at once). */
export function xdpState(k: Omit<XdpLink, "name" | "ifindex">): XdpState {
  const mode = ([null, "native", "skb", "hw", "multi"] as const)[k.attachMode] ?? null;
  return { native: k.drvProgId, skb: k.skbProgId, hw: k.hwProgId, progId: k.progId, mode };
}

/** Attach through a bpf_link (it detaches when the last reference — fd or pin — goes away). */
export function xdpLinkCreate(progFd: number, ifindex: number, mode: XdpMode): number {
  const o = new Struct("bpf_link_create_opts", { flags: modeFlag[mode] });
  return check(`attach XDP (${mode} mode)`, bpf().bpf_link_create(progFd, ifindex, BPF_XDP, o.buf));
}

/** Swap the program behind a link atomically: there is no instant without a program. */
export function linkUpdate(linkFd: number, progFd: number): void {
  check("replace XDP program", bpf().bpf_link_update(linkFd, progFd, new Struct("bpf_link_update_opts").buf));
}

/** Force a link off its hook (the link object lives on, defunct, until its last fd closes). */
export function linkDetach(linkFd: number): void {
  check("detach XDP link", bpf().bpf_link_detach(linkFd));
}

/** Remove a program attached through netlink (the `ip link set dev X xdp off` way). */
export function xdpDetachNetlink(ifindex: number, mode: XdpMode): void {
  check("detach XDP program", bpf().bpf_xdp_detach(ifindex, modeFlag[mode], new Struct("bpf_xdp_attach_opts").buf));
}

export interface LinkInfo {
  id: number;
  type: number;
  progId: number;
  ifindex: number;
}
export function linkInfo(fd: number): LinkInfo {
  const i = objInfo(fd, "bpf_link_info");
  return { id: i.get("id"), type: i.get("type"), progId: i.get("prog_id"), ifindex: i.get("xdp_ifindex") };
}

/** The XDP bpf_link holding a program on an interface, if the attachment is a link. */
export function findXdpLink(ifindex: number, progId: number): LinkInfo | null {
  for (const id of allIds("link")) {
    let fd = -1;
    try {
      fd = fdById("link", id);
    } catch {
      continue; // gone meanwhile
    }
    const info = withFd(fd, linkInfo);
    if (info.type === BPF_LINK_TYPE_XDP && info.ifindex === ifindex && info.progId === progId) return info;
  }
  return null;
}

export { closeFd };
