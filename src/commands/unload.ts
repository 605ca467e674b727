import { defineCommand, forceArg, interfaceArg, jsonArg } from "../cli/define.ts";
import { printJson } from "../table.ts";

export default defineCommand({
  meta: {
    name: "unload",
    description: `Detach xdptool's XDP program from an interface and remove its pins (and nothing else).

  Examples:
    xdptool unload xl-dut
    xdptool unload eth0 --force    # also removes a program another tool attached
    xdptool unload veth7           # an interface deleted under our program: its pins go`,
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
    const { detach, removeOrphanPins } = await import("../program/attach.ts");
    const { UsageError } = await import("../errors.ts");
    let iface: ReturnType<typeof resolveIface>;
    try {
      iface = resolveIface(args.interface);
    } catch (e) {
      // No such interface, but pins left by one that was deleted under our program: remove them.
      const { withProgramLock } = await import("../combined/program.ts");
      const removed = e instanceof UsageError && !args.interface.includes("/") ? withProgramLock(args.interface, () => removeOrphanPins(args.interface)) : null;
      if (removed === null) throw e;
      if (args.json) return printJson({ interface: args.interface, netns: null, progId: 0, progName: "", owner: "xdptool", removedPins: removed, gone: true });
      return console.log(`${args.interface}: the interface is gone; removed the ${removed} pins it left behind (its rules and counters)`);
    }
    const { withProgramLock } = await import("../combined/program.ts");
    const r = withProgramLock(iface.name, () => detach(iface, args.force));
    if (args.json) return printJson({ interface: iface.name, netns: iface.netns, ...r });
    if (r.removedPins) return console.log(`${iface.name}: no XDP program attached; removed the ${r.removedPins} pins left behind`);
    console.log(`${iface.name}: detached ${r.progName} (id ${r.progId}${r.owner === "foreign" ? ", not loaded by xdptool" : ""})`);
  },
});
