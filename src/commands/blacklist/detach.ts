import { defineCommand, interfaceArg, jsonArg } from "../../cli/define.ts";
import { OpError } from "../../errors.ts";
import { printJson } from "../../table.ts";

export default defineCommand({
  meta: {
    name: "detach",
    description: `Switch the blacklist off for an interface; the other features keep running.

  When the blacklist was the last feature on, the program and its pins (rules included) go too.

  Examples:
    xdptool blacklist detach xl-dut`,
  },
  args: {
    ...interfaceArg,
    ...jsonArg,
  },
  async run({ args }) {
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool blacklist detach");
    const { resolveIface } = await import("../../ffi/netns.ts");
    const { disableFeature } = await import("../../combined/program.ts");
    const { enabledFeatures } = await import("../../combined/bits.ts");
    const iface = resolveIface(args.interface);
    if (!enabledFeatures(iface.name).includes("blacklist")) throw new OpError(`${iface.name} has no blacklist switched on (xdptool status ${iface.name})`);
    const r = disableFeature(iface, "blacklist");
    if (args.json) return printJson({ interface: iface.name, ...r });
    console.log(`${iface.name}: blacklist off${r.detached ? ` (program ${r.progId} detached: no feature left on)` : " (other features keep running)"}`);
  },
});
