import { defineCommand } from "citty";
import { jsonArg } from "../../cli.ts";
import { printJson, table } from "../../table.ts";
import { ifaceArg } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "list",
    description: `Every rule with its counters: packets, bytes and time of the last hit.

  Counters are kept per rule by the program itself (per CPU, summed here). A packet is counted
  on the rule that decided it: the first deny rule that matched, or the allow rule that let it
  pass. Expired rules are removed as a side effect.

  Examples:
    xdptool blacklist list
    xdptool blacklist list --json | jq '.rules[] | select(.packets > 0)'`,
  },
  args: { ...ifaceArg, ...jsonArg },
  async run({ args }) {
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool blacklist");
    const { chooseInterface, withBlacklist, listRules } = await import("../../blacklist/store.ts");
    const ifname = chooseInterface(args.interface);
    const rules = withBlacklist(ifname, listRules);
    if (args.json) return printJson({ interface: ifname, rules });
    if (!rules.length) return console.log(`${ifname}: no rules`);
    console.log(table(["ID", "RULE", "TTL", "PACKETS", "BYTES", "LAST HIT"],
      rules.map((r) => [r.id, r.rule, r.ttl === null ? "-" : `${r.ttl}s`, r.packets, r.bytes, r.lastHit ?? "-"])));
  },
});
