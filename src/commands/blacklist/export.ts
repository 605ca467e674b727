import { defineCommand } from "../../cli/define.ts";
import { writeAll } from "../../table.ts";
import { ifaceArg } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "export",
    description: `Print every rule, one per line, in the syntax \`blacklist import\` reads back.

  Rules with a TTL are written with the time they have left, comments as --comment "…".

  Examples:
    xdptool blacklist export > rules.txt
    xdptool blacklist export -i xl-dut | xdptool blacklist import - -i eth0 --replace`,
  },
  args: { ...ifaceArg },
  async run({ args }) {
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool blacklist");
    const { chooseInterface, withBlacklist, exportText } = await import("../../blacklist/store.ts");
    const ifname = chooseInterface(args.interface);
    withBlacklist(ifname, (bl) => exportText(bl, writeAll)); // streamed: 1M rules through a pipe, every line arrives
  },
});
