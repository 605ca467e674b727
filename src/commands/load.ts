import { defineCommand, forceArg, interfaceArg, jsonArg, xdpMode, xdpModeArg } from "../cli/define.ts";
import { OpError, UsageError } from "../errors.ts";
import { printJson } from "../table.ts";

export default defineCommand({
  meta: {
    name: "load",
    description: `Attach an XDP program to an interface; it stays attached after xdptool exits.

  PROGRAM is one of the embedded programs (hello, drop, pass) or the path of a BPF object file.
  Loading again replaces the program atomically (no instant without one) and keeps its maps.
  Kernel: pass needs Linux 5.9 (BPF link); hello and drop 5.18 (bpf_loop, bpf_xdp_load_bytes for
  the IPv6 header walk). The helpers are probed first: an older kernel gets one line naming the
  release needed.

  Examples:
    xdptool load xl-dut hello                   # count and pass every packet
    xdptool load xl-dut drop --mode skb         # generic mode, works on any driver
    xdptool load xl-dut ./my.o --section xdp    # your own object, like \`ip link set dev X xdp obj\`
    xdptool load eth0 pass --force              # replace a program another tool attached

  Replacing xdptool's combined program while a feature runs on it (blacklist, responder, a
  capture) would end that feature and remove its rules and settings: refused without --force.`,
  },
  args: {
    ...interfaceArg,
    program: { type: "positional", required: true, description: "Embedded program name or path to a BPF .o file" },
    section: { type: "string", description: "ELF section of the program in a .o file (e.g. xdp)" },
    name: { type: "string", description: "Function name of the program in a .o file" },
    ...xdpModeArg,
    ...forceArg,
    ...jsonArg,
  },
  async run({ args }) {
    const mode = xdpMode(args.mode);
    const { programImage, LOADABLE } = await import("../program/embedded.ts");
    const image = programImage(args.program, LOADABLE);
    const { requireCaps } = await import("../privileges.ts");
    requireCaps("xdptool load");
    const { resolveIface } = await import("../ffi/netns.ts");
    const { attach } = await import("../program/attach.ts");
    const iface = resolveIface(args.interface);
    const { withProgramLock, ensureCombined, ownProgram } = await import("../combined/program.ts");
    const { COMBINED } = await import("../combined/bits.ts");
    // The combined program is loaded as its features are (sizes, state carried across layouts).
    const combined = args.program === COMBINED && !args.section && !args.name;
    const { enabledFeatures } = await import("../combined/bits.ts");
    const r = withProgramLock(iface.name, () => {
      if (combined) return ensureCombined(iface, { mode, force: args.force, reload: true }).attached!;
      if (!args.force && ownProgram(iface) === COMBINED) refuseEndingFeatures(enabledFeatures(iface.name), iface.name, args.program);
      return attach({ iface, image, objectName: args.program, section: args.section, program: args.name, mode, force: args.force });
    });
    if (args.json) return printJson({ interface: iface.name, netns: iface.netns, ...r });
    if (r.note) console.error(`xdptool: note: ${r.note}`);
    const verb = r.replaced === "none" ? "attached" : `replaced ${r.replaced === "foreign" ? "a foreign program" : "the previous program"} with`;
    console.log(`${iface.name}: ${verb} ${r.progName} (id ${r.progId}, ${r.mode} mode); pinned in ${r.pinDir}`);
  },
});

/** Another program in place of the combined one ends its features and drops their state (rules,
 *  settings): an operator does that on purpose (--force, or switching them off first), never by a
 *  `load` meant for an idle interface. */
function refuseEndingFeatures(on: string[], ifname: string, program: string): void {
  if (!on.length) return;
  const how = on.map((f) => (f === "sampler" ? "stop the capture" : `xdptool ${f} ${f === "blacklist" ? "detach" : "disable"} ${ifname}`));
  throw new OpError(`${ifname} runs xdptool's combined program with the ${on.join(" and ")} on; loading ${program} would end ${on.length > 1 ? "them" : "it"} and remove ${on.length > 1 ? "their" : "its"} state: add --force, or first ${how.join(", ")}`);
}
