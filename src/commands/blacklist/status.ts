import { defineCommand, jsonArg } from "../../cli/define.ts";
import { printJson } from "../../table.ts";
import { ifaceArg } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "status",
    description: `The blacklist as a whole: rules by action, capacity, packets dropped, kernel memory.

  The memory is what every map of the blacklist takes, as the kernel accounts it, in total and
  per rule.

  Read from the maps directly, without decoding rules: instant at a million rules.

  Examples:
    xdptool blacklist status
    xdptool blacklist status -i xl-dut --json`,
  },
  args: { ...ifaceArg, ...jsonArg },
  async run({ args }) {
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool blacklist");
    const { chooseInterface, withBlacklist, summarize, summaryText } = await import("../../blacklist/store.ts");
    const ifname = chooseInterface(args.interface);
    const s = withBlacklist(ifname, summarize);
    if (args.json) return printJson({ interface: ifname, ...s });
    console.log(`${ifname}: ${summaryText(s)}`);
  },
});
