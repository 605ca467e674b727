import { defineCommand } from "citty";
import { jsonArg } from "../../cli.ts";
import { OpError } from "../../errors.ts";
import { printJson } from "../../table.ts";
import { ifaceArg, ruleArgs, rulesFromArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "del",
    description: `Delete a rule, written as it was added (or as \`blacklist list\` shows it).

  Examples:
    xdptool blacklist del 198.18.7.0/24
    xdptool blacklist del allow 198.18.7.10
    xdptool blacklist del port 53/udp`,
  },
  args: { ...ifaceArg, ...ruleArgs, ...jsonArg },
  async run({ args }) {
    const rules = rulesFromArgs(args, false);
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool blacklist");
    const { chooseInterface, withBlacklist, gc } = await import("../../blacklist/store.ts");
    const { ruleText } = await import("../../blacklist/rules.ts");
    const ifname = chooseInterface(args.interface);
    const out = withBlacklist(ifname, (bl) => {
      gc(bl);
      return rules.map((r) => ({ rule: ruleText(r), deleted: bl.delete(r) }));
    });
    if (args.json) printJson({ interface: ifname, rules: out });
    else for (const r of out) console.log(`${ifname}: ${r.deleted ? "deleted" : "not found"}: ${r.rule}`);
    const missing = out.filter((r) => !r.deleted);
    if (missing.length) throw new OpError(`no such rule: ${missing.map((r) => r.rule).join(", ")} (see xdptool blacklist list)`);
  },
});
