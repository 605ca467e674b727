// _shared.ts — arguments and steps the blacklist commands share.
import { UsageError } from "../../errors.ts";
import { checkComment, parseRule, parseTtl, type Rule } from "../../blacklist/rules.ts";

export const ifaceArg = {
  interface: { type: "string", alias: "i", description: "The blacklist of this interface (default: the only one attached)" },
} as const;

export const ruleArgs = {
  src: { type: "boolean", description: "Match the source address (the default); for a port-only rule, the source port" },
  dst: { type: "boolean", description: "Match the destination address; for a port-only rule, the destination port (the default)" },
  any: { type: "boolean", description: "Match either direction (adds a source and a destination rule)" },
  ttl: { type: "string", description: "Remove the rule after this long: 90s, 10m, 2h, 1d" },
  comment: { type: "string", description: "Text kept with the rule (at most 128 bytes, one line; \"\" removes it); list and export show it" },
} as const;

/** The rules named by a command line's words and flags. */
export function rulesFromArgs(args: Record<string, unknown>, allow: boolean): Rule[] {
  const words = ((args._ as string[]) ?? []).map(String);
  if (words.length === 0) throw new UsageError("name a rule, e.g. 198.18.7.0/24, mac 02:00:00:00:00:01, port 53/udp, proto gre");
  const dirs = (["src", "dst", "any"] as const).filter((d) => args[d]);
  if (dirs.length > 1) throw new UsageError(`choose one of --src, --dst, --any (got ${dirs.map((d) => `--${d}`).join(" and ")})`);
  const comment = args.comment === undefined ? undefined : checkComment(String(args.comment));
  return parseRule(words, { allow, dir: dirs[0], ttl: args.ttl !== undefined ? parseTtl(String(args.ttl)) : undefined, comment });
}
