// parse.ts — rule files for `blacklist import`: one rule per line in the syntax of `add`,
// `#` comments, blank lines, and bare addresses/prefixes with a trailing `; comment`; quoted words
// (`--comment "text"`) may hold # and ;.
// Everything is validated before anything is written: the first bad line is an error.
import { UsageError } from "../errors.ts";
import { parseRule, splitWords, type Rule } from "./rules.ts";

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

/**
 * Parse text[start, end) as "a.b.c.d" or "a.b.c.d/len" by hand into `out`, without making a
 * string; false for anything else (the full parser takes it, and words its errors).
 */
function fastIPv4(text: string, start: number, end: number, out: Bare4): boolean {
  let part = 0, acc = 0, digits = 0, addr = 0, len = 32, i = start;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && acc === 0) return false; // leading zero
      acc = acc * 10 + c - 48;
      if (++digits > 3 || acc > 255) return false;
    } else if (c === 46 && digits && part < 3) {
      addr = addr * 256 + acc;
      part++;
      acc = digits = 0;
    } else if (c === 47 && digits && part === 3) break;
    else return false;
  }
  if (part !== 3 || digits === 0) return false;
  addr = addr * 256 + acc;
  if (i < end) {
    // "/len": one or two digits, at most 32
    const n = end - i - 1;
    if (n < 1 || n > 2) return false;
    len = 0;
    for (let j = i + 1; j < end; j++) {
      const c = text.charCodeAt(j);
      if (c < 48 || c > 57) return false;
      len = len * 10 + c - 48;
    }
    if (len > 32) return false;
  }
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  out.push((addr & mask) >>> 0, len);
  return true;
}

/** Bare IPv6 addresses/prefixes, as columns (16 bytes each). */
export class Bare6 {
  addr = new Uint8Array(16 * 1024);
  len = new Uint8Array(1024);
  n = 0;
  /** Room for one more; returns the byte offset to write the address at. */
  slot(): number {
    if (this.n === this.len.length) {
      const a = new Uint8Array(this.addr.length * 2), l = new Uint8Array(this.len.length * 2);
      a.set(this.addr);
      l.set(this.len);
      this.addr = a;
      this.len = l;
    }
    return this.n * 16;
  }
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * "x:x::x" or "x:x::x/len" (hex groups, at most one "::", no dotted IPv4 tail) by hand; false
 * for anything else (the full parser takes it and words the errors).
 */
function fastIPv6(text: string, start: number, end: number, out: Bare6): boolean {
  let slash = end;
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === 47) { slash = i; break; }
  const groups: number[] = [];
  let gap = -1, i = start;
  if (slash - start >= 2 && text.charCodeAt(i) === 58 && text.charCodeAt(i + 1) === 58) {
    gap = 0;
    i += 2;
  }
  while (i < slash) {
    let v = 0, digits = 0;
    for (; i < slash; i++) {
      const h = hexVal(text.charCodeAt(i));
      if (h < 0) break;
      v = v * 16 + h;
      if (++digits > 4) return false;
    }
    if (!digits) return false;
    groups.push(v);
    if (i === slash) break;
    if (text.charCodeAt(i) !== 58) return false; // '.', or anything else
    i++;
    if (i < slash && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = groups.length;
      i++;
    } else if (i === slash) return false; // trailing single ':'
  }
  if (gap < 0 ? groups.length !== 8 : groups.length > 7) return false;
  let len = 128;
  if (slash < end) {
    const n = end - slash - 1;
    if (n < 1 || n > 3) return false;
    len = 0;
    for (let j = slash + 1; j < end; j++) {
      const c = text.charCodeAt(j);
      if (c < 48 || c > 57) return false;
      len = len * 10 + c - 48;
    }
    if (len > 128) return false;
  }
  const o = out.slot(), a = out.addr;
  a.fill(0, o, o + 16);
  const tail = gap < 0 ? 0 : groups.length - gap;
  for (let g = 0; g < groups.length; g++) {
    const pos = gap >= 0 && g >= gap ? 8 - tail + (g - gap) : g;
    a[o + pos * 2] = groups[g] >> 8;
    a[o + pos * 2 + 1] = groups[g] & 255;
  }
  for (let bit = len; bit < 128; bit++) a[o + (bit >> 3)] &= ~(0x80 >> (bit & 7));
  out.len[out.n++] = len;
  return true;
}

export interface ParsedFile {
  rules: Rule[];
  bare4: Bare4;
  bare6: Bare6;
  /** Lines that held a rule. */
  lines: number;
}

/** How many rules a parsed file holds. */
export function ruleCount(parsed: ParsedFile): number {
  return parsed.rules.length + parsed.bare4.n + parsed.bare6.n;
}

/** The i-th rule of a parsed file as a Rule (the full rules first, then the bare prefixes: source, deny, no TTL). */
export function ruleAt(parsed: ParsedFile, i: number): Rule {
  if (i < parsed.rules.length) return parsed.rules[i];
  i -= parsed.rules.length;
  const b4 = parsed.bare4;
  if (i < b4.n) {
    const a = b4.addr[i];
    const addr = Uint8Array.from([a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255]);
    return { allow: false, match: { kind: "prefix", dir: "src", prefix: { family: 4, addr, len: b4.len[i] } }, l4: { kind: "none" } };
  }
  i -= b4.n;
  const addr = parsed.bare6.addr.slice(i * 16, i * 16 + 16);
  return { allow: false, match: { kind: "prefix", dir: "src", prefix: { family: 6, addr, len: parsed.bare6.len[i] } }, l4: { kind: "none" } };
}

/** Every rule of a parsed file as a Rule. */
export function* allRules(parsed: ParsedFile): Generator<Rule> {
  for (let i = 0, n = ruleCount(parsed); i < n; i++) yield ruleAt(parsed, i);
}

/** A line of the latin1 text as the UTF-8 it was written in (comments may hold any character), without
 * the byte-order mark an editor may put before the first line. Only lines with such bytes pay. */
function utf8Line(raw: string, line: number): string {
  if (line === 1 && raw.startsWith("\xef\xbb\xbf")) raw = raw.slice(3);
  return /[\x80-\xff]/.test(raw) ? Buffer.from(raw, "latin1").toString("utf8") : raw;
}

export function parseRulesText(text: string, file: string): ParsedFile {
  const nul = text.indexOf("\0");
  if (nul >= 0) throw new UsageError(`${file}:${text.slice(0, nul).split("\n").length}: binary data (NUL byte); expected text, one rule per line`);
  const out: ParsedFile = { rules: [], bare4: new Bare4(), bare6: new Bare6(), lines: 0 };
  // One pass over the text, no split: a million lines would be a million strings.
  for (let start = 0, line = 1; start <= text.length; line++) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    if (end - start > MAX_LINE) throw new UsageError(`${file}:${line}: line is ${end - start} characters long (at most ${MAX_LINE})`);
    const next = end + 1;
    if (fastIPv4(text, start, end, out.bare4) || fastIPv6(text, start, end, out.bare6)) {
      out.lines++;
      start = next;
      continue;
    }
    const raw = utf8Line(text.slice(start, end), line);
    start = next;
    try {
      if (raw.includes('"') || raw.includes("'")) {
        // A quoted word (--comment "…"): a # or ; inside it is text, not the start of a comment.
        const words = splitWords(raw);
        if (!words.length) continue;
        out.lines++;
        out.rules.push(...parseRule(words));
        continue;
      }
      const body = raw.replace(/[#;][^]*$/, "").trim(); // [^]: a CRLF line's \r too
      if (!body) continue;
      out.lines++;
      if (!fastIPv4(body, 0, body.length, out.bare4) && !fastIPv6(body, 0, body.length, out.bare6)) out.rules.push(...parseRule(body.split(/\s+/)));
    } catch (e) {
      if (e instanceof UsageError) throw new UsageError(`${file}:${line}: ${e.message}`);
      throw e;
    }
  }
  if (out.lines === 0) throw new UsageError(`${file}: no rules in it (only blank lines and comments); use \`blacklist flush\` to remove every rule`);
  return out;
}

