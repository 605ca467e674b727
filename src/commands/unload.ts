import { defineCommand, forceArg, interfaceArg, jsonArg } from "../cli/define.ts";
import { printJson } from "../table.ts";

export default defineCommand({
  meta: {
    name: "unload",
    description: `Detach xdptool's XDP program from an interface and remove its pins (and nothing else).

  Examples:
    xdptool unload xl-dut
    xdptool unload eth0 --force    # also removes a program another tool attached`,
  },
  args: {
    ...interfaceArg,
    ...forceArg,
    ...jsonArg,
  },
  async run({ args }) {
    const { requireCaps } = await import("../privileges.ts");
    requireCaps("xdptool unload");
    const { resolveIface } = await import("../ffi/netns.ts");
    const { detach } = await import("../program/attach.ts");
    const iface = resolveIface(args.interface);
    const { withProgramLock } = await import("../combined/program.ts");
    const r = withProgramLock(iface.name, () => detach(iface, args.force));
    if (args.json) return printJson({ interface: iface.name, netns: iface.netns, ...r });
    if (r.removedPins) return console.log(`${iface.name}: no XDP program attached; removed the ${r.removedPins} pins left behind`);
    console.log(`${iface.name}: detached ${r.progName} (id ${r.progId}${r.owner === "foreign" ? ", not loaded by xdptool" : ""})`);
  },
});
