import { defineCommand, jsonArg } from "../../cli/define.ts";
import { printJson } from "../../table.ts";
import { ifaceArg } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "flush",
    description: `Delete every rule (deny and allow) at once; the program stays attached.

  The switch to an empty set is one write; the old set's memory is freed right after, in the
  background (see \`blacklist gc\`).

  Examples:
    xdptool blacklist flush
    xdptool blacklist flush -i xl-dut`,
  },
  args: { ...ifaceArg, ...jsonArg },
  async run({ args }) {
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool blacklist");
    const { chooseInterface, withBlacklist, freeIdleInBackground } = await import("../../blacklist/store.ts");
    const { clockNs } = await import("../../ffi/clock.ts");
    const ifname = chooseInterface(args.interface);
    const r = withBlacklist(ifname, (bl) => ({ removed: bl.census(clockNs()).live, timing: bl.replace([], undefined, undefined, true) }));
    await freeIdleInBackground(ifname);
    if (args.json) return printJson({ interface: ifname, ...r });
    console.log(`${ifname}: removed ${r.removed} rules`);
  },
});
