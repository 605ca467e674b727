// parse.ts — rule files for `blacklist import`: one rule per line in the syntax of `add`,
// `#` comments, blank lines, and bare addresses/prefixes with a trailing `; comment`.
// Everything is validated before anything is written: the first bad line is an error.
import { UsageError } from "../errors.ts";
import { parseRule, type Rule } from "./rules.ts";

export const MAX_LINE = 4096;

export interface ParsedLine {
  line: number;
  rules: Rule[];
}

export function parseRulesText(text: string, file: string): ParsedLine[] {
  const nul = text.indexOf("\0");
  if (nul >= 0) throw new UsageError(`${file}:${text.slice(0, nul).split("\n").length}: binary data (NUL byte); expected text, one rule per line`);
  const out: ParsedLine[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (raw.length > MAX_LINE) throw new UsageError(`${file}:${i + 1}: line is ${raw.length} characters long (at most ${MAX_LINE})`);
    const body = raw.replace(/[#;].*$/, "").trim();
    if (!body) continue;
    try {
      out.push({ line: i + 1, rules: parseRule(body.split(/\s+/)) });
    } catch (e) {
      if (e instanceof UsageError) throw new UsageError(`${file}:${i + 1}: ${e.message}`);
      throw e;
    }
  }
  if (out.length === 0) throw new UsageError(`${file}: no rules in it (only blank lines and comments); use \`blacklist flush\` to remove every rule`);
  return out;
}
