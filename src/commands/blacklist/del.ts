import { defineCommand, jsonArg } from "../../cli/define.ts";
import { OpError, UsageError } from "../../errors.ts";
import { printJson } from "../../table.ts";
import { ifaceArg, ruleArgs, rulesFromArgs } from "./_shared.ts";
import type { Rule } from "../../blacklist/rules.ts";

const { ttl: _ttl, comment: _comment, ...dirArgs } = ruleArgs; // a deleted rule has no lifetime or comment to set

/** `del 3 7`: the words are rule ids as `blacklist list` prints them. */
function idsOf(words: string[]): number[] | null {
  if (!words.length || !words.every((w) => /^\d+$/.test(w))) return null;
  const ids = words.map(Number);
  const bad = ids.find((n) => n < 1 || n > 0xffffffff);
  if (bad !== undefined) throw new UsageError(`rule id ${bad} is out of range (ids start at 1; see xdptool blacklist list)`);
  return ids;
}

export default defineCommand({
  meta: {
    name: "del",
    description: `Delete rules, written as they were added (or as \`blacklist list\` shows them), or by id.

  Examples:
    xdptool blacklist del 198.18.7.0/24
    xdptool blacklist del allow 198.18.7.10
    xdptool blacklist del port 53/udp
    xdptool blacklist del 3 7              # the rules \`blacklist list\` shows with ids 3 and 7

  Ids are renumbered by \`import --replace\`: list again before deleting by id.`,
  },
  args: { ...ifaceArg, ...dirArgs, ...jsonArg },
  async run({ args }) {
    const ids = idsOf(((args._ as string[]) ?? []).map(String));
    if (ids && (args.src || args.dst || args.any)) throw new UsageError("--src/--dst/--any name a rule's direction; they do not go with ids");
    const rules = ids ? [] : rulesFromArgs(args, false);
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool blacklist");
    const { chooseInterface, withBlacklist, gcExpired } = await import("../../blacklist/store.ts");
    const { ruleText } = await import("../../blacklist/rules.ts");
    const ifname = chooseInterface(args.interface);
    const out = withBlacklist(ifname, (bl) => {
      gcExpired(bl);
      let chosen: Rule[] = rules;
      if (ids) {
        // Resolve every id first, so an unknown one deletes nothing at all.
        const byId = new Map(bl.read(undefined, new Set(ids)).map((r) => [r.id, r]));
        const unknown = ids.filter((id) => !byId.has(id));
        if (unknown.length) throw new OpError(`no rule with id ${unknown.join(", ")} (see xdptool blacklist list); nothing deleted`);
        chosen = [...new Set(ids)].map((id) => byId.get(id)!);
      } else {
        // The same for rules: all of them are there (a port list, --any, both protocols), or none goes.
        const missing = rules.filter((r) => bl.locate(r) === null);
        if (missing.length) throw new OpError(`no such rule: ${missing.map((r) => ruleText(r)).join(", ")} (see xdptool blacklist list); nothing deleted`);
      }
      return chosen.map((r) => ({ rule: ruleText(r), deleted: bl.delete(r) }));
    });
    if (args.json) printJson({ interface: ifname, rules: out });
    else for (const r of out) console.log(`${ifname}: ${r.deleted ? "deleted" : "not found"}: ${r.rule}`);
  },
});
