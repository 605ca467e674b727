// _add.ts — what `add` and `allow` do.
import { printJson } from "../../table.ts";
import { rulesFromArgs } from "./_shared.ts";

export async function runAdd(args: Record<string, unknown>, allow: boolean): Promise<void> {
  const rules = rulesFromArgs(args, allow);
  const { requireCaps } = await import("../../privileges.ts");
  requireCaps("xdptool blacklist");
  const { addRules, chooseInterface, withBlacklist } = await import("../../blacklist/store.ts");
  const { checkNoteRoom } = await import("../../blacklist/notes.ts");
  const { ruleText } = await import("../../blacklist/rules.ts");
  const { clockNs } = await import("../../ffi/clock.ts");
  const ifname = chooseInterface(args.interface as string | undefined);
  const out = withBlacklist(ifname, (bl) => {
    const now = clockNs();
    checkNoteRoom(bl, rules);
    const added = addRules(bl, rules, now);
    return rules.map((r, i) => ({ rule: ruleText(r), ttl: r.ttl ?? null, comment: r.comment || null, ...added[i] }));
  });
  if (args.json) return printJson({ interface: ifname, rules: out });
  for (const r of out) console.log(`${ifname}: ${r.existed ? `already there (${r.ttl ? "TTL reset" : "now permanent: no --ttl given"})` : "added"}: ${r.rule}${r.ttl ? ` (expires in ${r.ttl}s)` : ""}${r.comment ? ` "${r.comment}"` : ""} [id ${r.id}]`);
}
