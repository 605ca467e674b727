import { defineCommand } from "citty";
import { ifaceArg } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "export",
    description: `Print every rule, one per line, in the syntax \`blacklist import\` reads back.

  Rules with a TTL are written with the time they have left.

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
    // Bun.write waits until a pipe has taken every byte (process.stdout.write of a big string
    // followed by exit loses the tail: measured at 1M rules, ~8000 lines arrived).
    await Bun.write(Bun.stdout, withBlacklist(ifname, exportText));
  },
});
