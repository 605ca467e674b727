// rules.ts — a blacklist rule as data, its text form (the syntax of `add` and of import files),
// and its identity (the one map entry it owns). Pure: no kernel, no files.
import { UsageError } from "../errors.ts";
import { durationArg } from "../cli/define.ts";
import { formatMac, formatPrefix, parseMac, parsePrefix, parseRange, type Prefix } from "../net/addr.ts";
import { parsePorts } from "./ports.ts";

export type Dir = "src" | "dst";

export type Match =
  | { kind: "none" }
  | { kind: "mac"; dir: Dir; mac: Uint8Array }
  | { kind: "prefix"; dir: Dir; prefix: Prefix };

export type L4 =
  | { kind: "none" }
  | { kind: "proto"; proto: number }
  | { kind: "port"; proto: 6 | 17; dir: Dir; port: number };

export interface Rule {
  allow: boolean;
  match: Match;
  l4: L4;
  /** Seconds to live from when it is written; undefined = forever. */
  ttl?: number;
  /** Text kept with the rule (--comment); undefined = not given ("" = none). Never matched on. */
  comment?: string;
}

export const PROTOS: Record<string, number> = {
  icmp: 1, igmp: 2, ipip: 4, tcp: 6, udp: 17, ipv6: 41, gre: 47, esp: 50, ah: 51, icmpv6: 58, "ipv6-icmp": 58, ospf: 89, sctp: 132,
};
const PROTO_NAME: Record<number, string> = { 1: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre", 50: "esp", 51: "ah", 58: "icmpv6", 89: "ospf", 132: "sctp" };

export function protoName(n: number): string {
  return PROTO_NAME[n] ?? String(n);
}

function parseProto(s: string): number {
  const lower = s.toLowerCase();
  if (lower in PROTOS) return PROTOS[lower];
  if (/^\d{1,3}$/.test(s) && Number(s) <= 255) return Number(s);
  throw new UsageError(`unknown protocol "${s}" (a name such as tcp, udp, icmp, gre, or a number 0-255)`);
}

/** "90", "90s", "10m", "2h", "1d" → seconds. */
export const parseTtl = (s: string): number => durationArg("ttl", s);

export interface ParseOptions {
  allow?: boolean;
  /** --src / --dst / --any from the command line (a line's own flags win). */
  dir?: Dir | "any";
  ttl?: number;
  comment?: string;
}

/** At most this many bytes of UTF-8 in a comment (struct bl_note in bpf/include/blacklist_maps.h). */
export const COMMENT_MAX = 128;

/** A comment as given, checked: one line of printable text that fits. */
export function checkComment(s: string): string {
  const bytes = Buffer.byteLength(s);
  if (bytes > COMMENT_MAX) throw new UsageError(`comment is ${bytes} bytes long (at most ${COMMENT_MAX} bytes of UTF-8)`);
  const bad = s.match(/[\x00-\x1f\x7f]/);
  if (bad) throw new UsageError(`comment holds a control character (U+${bad[0].charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()}); a comment is one line of text`);
  if (s.includes("\ufffd")) throw new UsageError("comment is not valid UTF-8");
  return s;
}

/** A comment as rule text reads it back: double quotes, \" and \\ escaped. */
export function quoteComment(s: string): string {
  return `"${s.replace(/[\\"]/g, "\\$&")}"`;
}

/**
 * A rule line's words, quotes respected: "…" (with \" and \\) and '…' make one word of what
 * they hold; an unquoted # or ; ends the line (a comment for people, dropped). Lines without
 * quotes are split on blanks by the callers, which is the same.
 */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  let w: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"' || c === "'") {
      const end = quoteEnd(line, i);
      const inner = line.slice(i + 1, end);
      w = (w ?? "") + (c === '"' ? inner.replace(/\\(.)/g, "$1") : inner);
      i = end;
    } else if (c === "#" || c === ";") break;
    else if (/\s/.test(c)) {
      if (w !== null) out.push(w);
      w = null;
    } else w = (w ?? "") + c;
  }
  if (w !== null) out.push(w);
  return out;
}

function quoteEnd(line: string, open: number): number {
  const q = line[open];
  for (let i = open + 1; i < line.length; i++) {
    if (q === '"' && line[i] === "\\") i++;
    else if (line[i] === q) return i;
  }
  throw new UsageError(`unterminated ${q === '"' ? "double" : "single"} quote`);
}

/**
 * Parse one rule from words: `[allow] [ADDR/LEN | FIRST-LAST | mac MAC] [port P[/tcp|udp] | sport P
 * | dport P] [proto NAME] [--src|--dst|--any] [--ttl T]`, P a port, a list (80,443), a range
 * (8000-8010) or a service name (ssh); `--comment TEXT` (one word: quote it) is kept with the rule. Returns one or more rules (each owns one map entry):
 * `--any` gives a source and a destination rule, `port 53` a TCP and a UDP rule, a list or range
 * one rule per port, an address range the fewest prefixes that cover it.
 */
export function parseRule(words: string[], opts: ParseOptions = {}): Rule[] {
  let allow = opts.allow ?? false, dir: Dir | "any" | undefined = opts.dir, ttl = opts.ttl, comment = opts.comment;
  let addr: { kind: "mac"; mac: Uint8Array } | { kind: "prefix"; prefixes: Prefix[] } | undefined;
  let port: { ports: number[]; protos: (6 | 17)[]; dir?: Dir } | undefined;
  let proto: number | undefined;
  const need = (i: number, what: string) => {
    if (i >= words.length) throw new UsageError(`${words[i - 1]} needs ${what}`);
    return words[i];
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === "allow" && i === 0) allow = true;
    else if (w === "deny" && i === 0) allow = false;
    else if (w === "--src" || w === "--dst" || w === "--any") {
      if (dir !== undefined && dir !== w.slice(2)) throw new UsageError(`choose one of --src, --dst, --any (got --${dir} and ${w})`);
      dir = w.slice(2) as Dir | "any";
    }
    else if (w === "--ttl") ttl = parseTtl(need(++i, "a duration such as 10m"));
    else if (w.startsWith("--ttl=")) ttl = parseTtl(w.slice(6));
    else if (w === "--comment") comment = checkComment(need(++i, 'a text such as "botnet C2"'));
    else if (w.startsWith("--comment=")) comment = checkComment(w.slice(10));
    else if (w === "mac") {
      if (addr) throw new UsageError(`a rule names at most one address (got "${w}" after one)`);
      const s = need(++i, "a MAC address such as 02:00:00:00:00:01");
      const mac = parseMac(s);
      if (!mac) throw new UsageError(`invalid MAC address "${s}" (six hex bytes, e.g. 02:00:00:00:00:01)`);
      addr = { kind: "mac", mac };
    } else if (w === "port" || w === "sport" || w === "dport") {
      if (port) throw new UsageError("a rule names at most one port");
      port = { ...parsePorts(need(++i, "a port such as 53/udp")), dir: w === "sport" ? "src" : w === "dport" ? "dst" : undefined };
    } else if (w === "proto") {
      if (proto !== undefined) throw new UsageError("a rule names at most one protocol");
      proto = parseProto(need(++i, "a protocol such as gre or 47"));
    } else if (/[.:/]/.test(w) || /^\d/.test(w)) {
      if (addr) throw new UsageError(`a rule names at most one address (got "${w}" after one)`);
      addr = { kind: "prefix", prefixes: parseRange(w) ?? [parsePrefix(w)] };
    } else if (w.startsWith("-")) throw new UsageError(`unknown option "${w}" in rule`);
    else throw new UsageError(`cannot read "${w}": expected an address/prefix, mac, port, sport, dport, proto, --src, --dst, --any, --ttl or --comment`);
  }
  if (!addr && !port && proto === undefined) throw new UsageError("empty rule: name an address, mac, port or proto");
  if (port && proto !== undefined) {
    if (proto !== 6 && proto !== 17) throw new UsageError(`ports exist only for tcp and udp, not ${protoName(proto)}`);
    if (!port.protos.includes(proto)) throw new UsageError("the port's protocol and proto disagree");
    port.protos = [proto];
  }
  // Direction: of the address when there is one; else (port-only rules) of the port.
  const addrDirs: Dir[] = !addr ? ["src"] : dir === "any" ? ["src", "dst"] : [(dir as Dir) ?? "src"];
  let portDir: Dir = port?.dir ?? "dst";
  if (port && !addr && !port.dir && dir) {
    if (dir === "any") throw new UsageError("--any applies to addresses; for ports write two rules (port P --src, port P)");
    portDir = dir;
  }
  const l4s: L4[] = port ? port.ports.flatMap((n) => port!.protos.map((p) => ({ kind: "port" as const, proto: p, dir: portDir, port: n })))
    : proto !== undefined ? [{ kind: "proto", proto }] : [{ kind: "none" }];
  const out: Rule[] = [];
  for (const d of addrDirs) {
    const matches: Match[] = !addr ? [{ kind: "none" }] : addr.kind === "mac" ? [{ kind: "mac", dir: d, mac: addr.mac }] : addr.prefixes.map((prefix) => ({ kind: "prefix", dir: d, prefix }));
    for (const match of matches) for (const l4 of l4s) out.push(comment === undefined ? { allow, match, l4, ttl } : { allow, match, l4, ttl, comment });
  }
  return out;
}

/** Canonical text, re-readable by parseRule (TTL excluded: see formatRule's caller). */
export function ruleText(r: Rule): string {
  const m = r.match;
  const what = m.kind === "mac" ? `mac ${formatMac(m.mac)}` : m.kind === "prefix" ? formatPrefix(m.prefix) : null;
  return ruleWords(r.allow, what, m.kind !== "none" && m.dir === "dst", r.l4);
}

/** A rule's text from its parts: `what` is the match already written ("198.18.0.0/24",
 *  "mac 02:…"), or null for a rule that names no address. */
export function ruleWords(allow: boolean, what: string | null, dst: boolean, l4: Rule["l4"]): string {
  if (!allow && what !== null && !dst && l4.kind === "none") return what; // most rules of a big list
  const w: string[] = [];
  if (allow) w.push("allow");
  if (what !== null) w.push(what);
  if (l4.kind === "proto") w.push("proto", protoName(l4.proto));
  if (l4.kind === "port") {
    const kw = what === null ? "port" : l4.dir === "src" ? "sport" : "port";
    w.push(kw, `${l4.port}/${l4.proto === 6 ? "tcp" : "udp"}`);
    if (what === null && l4.dir === "src") w.push("--src");
  }
  if (what !== null && dst) w.push("--dst");
  return w.join(" ");
}

/** A rule's text with its comment, as export and saved configurations write it. */
export function ruleLine(text: string, comment: string | null | undefined): string {
  return comment ? `${text} --comment ${quoteComment(comment)}` : text;
}

/** The identity of a rule: two rules with the same key own the same map entry. */
export const ruleKey = ruleText;
