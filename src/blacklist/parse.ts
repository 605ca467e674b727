// parse.ts — rule files for `blacklist import`: one rule per line in the syntax of `add`,
// `#` comments, blank lines, and bare addresses/prefixes with a trailing `; comment`.
// Everything is validated before anything is written: the first bad line is an error.
import { UsageError } from "../errors.ts";
import { parseRule, type Rule } from "./rules.ts";

export const MAX_LINE = 4096;

/**
 * Bare IPv4 addresses/prefixes (source, deny, no TTL) — the bulk of big lists — kept as columns
 * instead of one object per rule: a million small objects cost more than everything else here.
 */
export class Bare4 {
  addr: Uint32Array;
  len: Uint8Array;
  n = 0;
  constructor(cap = 1024) {
    this.addr = new Uint32Array(cap);
    this.len = new Uint8Array(cap);
  }
  push(addr: number, len: number): void {
    if (this.n === this.addr.length) {
      const a = new Uint32Array(this.n * 2), l = new Uint8Array(this.n * 2);
      a.set(this.addr);
      l.set(this.len);
      this.addr = a;
      this.len = l;
    }
    this.addr[this.n] = addr;
    this.len[this.n++] = len;
  }
}

/** Parse "a.b.c.d" or "a.b.c.d/len" by hand into `out`; false for anything else (full parser). */
function fastIPv4(s: string, out: Bare4): boolean {
  let part = 0, acc = 0, digits = 0, addr = 0, len = 32;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && acc === 0) return false; // leading zero
      acc = acc * 10 + c - 48;
      if (++digits > 3 || acc > 255) return false;
    } else if (c === 46 && digits && part < 3) {
      addr = addr * 256 + acc;
      part++;
      acc = digits = 0;
    } else if (c === 47 && digits && part === 3) {
      const l = s.slice(i + 1);
      if (!/^\d{1,2}$/.test(l) || Number(l) > 32) return false;
      len = Number(l);
      digits = -1;
      break;
    } else return false;
  }
  if (part !== 3 || digits === 0) return false;
  addr = addr * 256 + acc;
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  out.push((addr & mask) >>> 0, len);
  return true;
}

export interface ParsedFile {
  rules: Rule[];
  bare4: Bare4;
  /** Lines that held a rule. */
  lines: number;
}

export function parseRulesText(text: string, file: string): ParsedFile {
  const nul = text.indexOf("\0");
  if (nul >= 0) throw new UsageError(`${file}:${text.slice(0, nul).split("\n").length}: binary data (NUL byte); expected text, one rule per line`);
  const out: ParsedFile = { rules: [], bare4: new Bare4(), lines: 0 };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (raw.length > MAX_LINE) throw new UsageError(`${file}:${i + 1}: line is ${raw.length} characters long (at most ${MAX_LINE})`);
    if (fastIPv4(raw, out.bare4)) {
      out.lines++;
      continue;
    }
    const body = raw.replace(/[#;].*$/, "").trim();
    if (!body) continue;
    out.lines++;
    try {
      if (!fastIPv4(body, out.bare4)) out.rules.push(...parseRule(body.split(/\s+/)));
    } catch (e) {
      if (e instanceof UsageError) throw new UsageError(`${file}:${i + 1}: ${e.message}`);
      throw e;
    }
  }
  if (out.lines === 0) throw new UsageError(`${file}: no rules in it (only blank lines and comments); use \`blacklist flush\` to remove every rule`);
  return out;
}
