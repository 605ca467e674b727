import { defineCommand } from "citty";
import { jsonArg } from "../../cli.ts";
import { printJson } from "../../table.ts";
import { ifaceArg } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "flush",
    description: `Delete every rule (deny and allow) at once; the program stays attached.

  Examples:
    xdptool blacklist flush
    xdptool blacklist flush -i xl-dut`,
  },
  args: { ...ifaceArg, ...jsonArg },
  async run({ args }) {
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool blacklist");
    const { chooseInterface, withBlacklist } = await import("../../blacklist/store.ts");
    const ifname = chooseInterface(args.interface);
    const r = withBlacklist(ifname, (bl) => {
      const before = bl.read().length;
      return { removed: before, timing: bl.replace([]) };
    });
    if (args.json) return printJson({ interface: ifname, ...r });
    console.log(`${ifname}: removed ${r.removed} rules`);
  },
});
