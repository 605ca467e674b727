// model.ts — the configuration file (docs/10-config.md) as checked data: every key, rule, name and
// prefix validated before anything on the host is touched; a mistake is `FILE:LINE: reason`.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { UsageError } from "../errors.ts";
import { parseRule, parseTtl, ruleKey, splitWords, type Rule } from "../blacklist/rules.ts";
import { allRules, parseRulesText } from "../blacklist/parse.ts";
import { readRulesFile } from "../blacklist/source.ts";
import { parseEnableArgs, type EnableArgs, type ResponderConfig } from "../responder/config.ts";
import { parseToml, type TomlLines } from "./toml.ts";

export const CONFIG_VERSION = 1;

export interface BlacklistConfig {
  /** Rules it is sized for (`blacklist attach --max-rules`); undefined: as attach would. */
  maxRules?: number;
  /** Permanent rules: the inline list and the rule file's, in that order. */
  rules: Rule[];
  /** Rules with a TTL, by the wall-clock time they end (ms since the epoch). */
  expiring: { rule: Rule; expiresMs: number }[];
  /** The rule file, as written in the config (relative to it). */
  file?: string;
  feeds: { url: string; refresh: number; line: number }[];
}

export interface InterfaceConfig {
  name: string;
  /** Named network namespace; null: the namespace xdptool runs in. */
  netns: string | null;
  mode: "auto" | "native" | "skb";
  /** Line of its [[interface]] header. */
  line: number;
  blacklist: BlacklistConfig | null;
  responder: ResponderConfig | null;
}

export interface HostConfig {
  file: string;
  interfaces: InterfaceConfig[];
}

/** Where an interface is, as messages and `NETNS/IFNAME` arguments spell it. */
export const ifaceSpec = (i: { name: string; netns: string | null }) => (i.netns ? `${i.netns}/${i.name}` : i.name);

type Table = Record<string, unknown>;

/** Read and check a configuration file; throws `FILE:LINE: reason` (UsageError) on the first mistake. */
export function loadConfig(file: string): HostConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UsageError(code === "ENOENT" ? `no such file: ${file}` : `${file}: cannot read (${code ?? (e as Error).message})`);
  }
  const { doc, lines } = parseToml(text, file);
  return new Checker(file, lines).host(doc);
}

class Checker {
  constructor(private readonly file: string, private readonly lines: TomlLines) {}

  fail(path: string, reason: string): never {
    throw new UsageError(`${this.file}:${this.lines.near(path)}: ${reason}`);
  }

  /** Refuse keys this version does not know: a typo must not silently mean "off". */
  keys(t: Table, path: string, known: string[], where: string): void {
    for (const k of Object.keys(t)) if (!known.includes(k)) this.fail(`${path}.${k}`.replace(/^\./, ""), `unknown key "${k}" in ${where} (known: ${known.join(", ")})`);
  }

  table(v: unknown, path: string, what: string): Table {
    if (typeof v !== "object" || v === null || Array.isArray(v) || "epochMilliseconds" in v) this.fail(path, `${what} must be a table`);
    return v as Table;
  }

  str(v: unknown, path: string, what: string): string {
    if (typeof v !== "string") this.fail(path, `${what} must be a string`);
    return v;
  }

  int(v: unknown, path: string, what: string, min: number, max: number): number {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) this.fail(path, `${what} must be a whole number from ${min} to ${max}`);
    return v;
  }

  list<T>(v: unknown, path: string, what: string, item: (x: unknown, p: string) => T): T[] {
    if (!Array.isArray(v)) this.fail(path, `${what} must be a list, e.g. [ … ]`);
    return v.map((x, i) => item(x, `${path}[${i}]`));
  }

  host(doc: Table): HostConfig {
    this.keys(doc, "", ["version", "interface"], "the file");
    if (doc.version === undefined) this.fail("", `no version: the file must say version = ${CONFIG_VERSION}`);
    if (doc.version !== CONFIG_VERSION) this.fail("version", `version ${JSON.stringify(doc.version)} is not one this xdptool reads (it reads version = ${CONFIG_VERSION})`);
    const list = doc.interface === undefined ? [] : doc.interface;
    if (!Array.isArray(list)) this.fail("interface", "interface must be [[interface]] tables, one per interface");
    const interfaces = list.map((t, i) => this.iface(t, `interface[${i}]`));
    const seen = new Map<string, string>();
    interfaces.forEach((x, i) => {
      // Pins live under /sys/fs/bpf/xdptool/NAME: one state per name, whatever its namespace.
      const other = seen.get(x.name);
      if (other !== undefined) this.fail(`interface[${i}]`, `interface ${ifaceSpec(x)} is listed again (as ${other}); xdptool keeps one state per interface name`);
      seen.set(x.name, ifaceSpec(x));
    });
    return { file: this.file, interfaces };
  }

  iface(v: unknown, path: string): InterfaceConfig {
    const t = this.table(v, path, "[[interface]]");
    if (t.sampler !== undefined) this.fail(`${path}.sampler`, "the sampler is not part of the configuration: a capture runs while `xdptool sample` runs");
    this.keys(t, path, ["name", "netns", "mode", "blacklist", "responder"], "[[interface]]");
    if (t.name === undefined) this.fail(path, "[[interface]] needs a name = \"IFNAME\"");
    const name = this.str(t.name, `${path}.name`, "name");
    if (!/^[^\s/:]{1,15}$/.test(name)) this.fail(`${path}.name`, `"${name}" is not an interface name`);
    const netns = t.netns === undefined ? null : this.str(t.netns, `${path}.netns`, "netns");
    if (netns !== null && !/^[^\s/]{1,255}$/.test(netns)) this.fail(`${path}.netns`, `"${netns}" is not a network namespace name`);
    const mode = t.mode === undefined ? "auto" : this.str(t.mode, `${path}.mode`, "mode");
    if (mode !== "auto" && mode !== "native" && mode !== "skb") this.fail(`${path}.mode`, `mode must be "native", "skb" or "auto", not "${mode}"`);
    return {
      name, netns, mode, line: this.lines.near(path),
      blacklist: t.blacklist === undefined ? null : this.blacklist(t.blacklist, `${path}.blacklist`),
      responder: t.responder === undefined ? null : this.responder(t.responder, `${path}.responder`),
    };
  }

  rule(v: unknown, path: string): Rule[] {
    const text = this.str(v, path, "a rule");
    let words: string[];
    try {
      words = /["']/.test(text) ? splitWords(text) : text.trim().split(/\s+/).filter(Boolean); // quoted: a --comment
    } catch (e) {
      if (e instanceof UsageError) this.fail(path, `"${text}": ${e.message}`);
      throw e;
    }
    if (words.some((w) => w === "--ttl" || w.startsWith("--ttl="))) this.fail(path, `"${text}": a rule with a TTL goes in expiring = [{ rule = "…", expires = 2026-01-01T00:00:00Z }]`);
    try {
      return parseRule(words);
    } catch (e) {
      if (e instanceof UsageError) this.fail(path, `"${text}": ${e.message}`);
      throw e;
    }
  }

  blacklist(v: unknown, path: string): BlacklistConfig {
    const t = this.table(v, path, "[interface.blacklist]");
    this.keys(t, path, ["max_rules", "rules", "file", "expiring", "feed"], "[interface.blacklist]");
    const rules = t.rules === undefined ? [] : this.list(t.rules, `${path}.rules`, "rules", (x, p) => this.rule(x, p)).flat();
    const file = t.file === undefined ? undefined : this.str(t.file, `${path}.file`, "file");
    if (file !== undefined) {
      const at = isAbsolute(file) ? file : join(dirname(this.file), file);
      const parsed = parseRulesText(readRulesFile(at), at); // its own mistakes are RULEFILE:LINE
      const fromFile = [...allRules(parsed)];
      if (fromFile.some((r) => r.ttl !== undefined)) this.fail(`${path}.file`, `${file} has rules with --ttl; rules that expire go in expiring (absolute times), the file holds permanent ones`);
      rules.push(...fromFile);
    }
    const expiring = t.expiring === undefined ? [] : this.list(t.expiring, `${path}.expiring`, "expiring", (x, p) => {
      const e = this.table(x, p, "an expiring rule");
      this.keys(e, p, ["rule", "expires"], "an expiring rule");
      if (e.rule === undefined || e.expires === undefined) this.fail(p, "an expiring rule needs rule = \"…\" and expires = 2026-01-01T00:00:00Z");
      const ms = (e.expires as { epochMilliseconds?: unknown }).epochMilliseconds;
      if (typeof ms !== "number") this.fail(`${p}.expires`, "expires must be a date and time with its offset, e.g. 2026-01-01T00:00:00Z");
      return this.rule(e.rule, `${p}.rule`).map((rule) => ({ rule, expiresMs: ms, path: p }));
    }).flat();
    const feeds = t.feed === undefined ? [] : this.list(t.feed, `${path}.feed`, "feed", (x, p) => {
      const f = this.table(x, p, "[[interface.blacklist.feed]]");
      this.keys(f, p, ["url", "refresh"], "[[interface.blacklist.feed]]");
      const url = this.str(f.url, `${p}.url`, "url");
      if (!/^https?:\/\/[^\s/]+/.test(url)) this.fail(`${p}.url`, `"${url}" is not an http:// or https:// URL`);
      let refresh = 86400;
      if (f.refresh !== undefined) {
        try {
          refresh = parseTtl(this.str(f.refresh, `${p}.refresh`, "refresh"));
        } catch {
          this.fail(`${p}.refresh`, `refresh "${f.refresh}" must be a duration such as 6h or 1d`);
        }
      }
      return { url, refresh, line: this.lines.near(p) };
    });
    // One rule, one end: listed permanent and expiring (or expiring twice), which would win is a guess.
    const seen = new Set(rules.map(ruleKey));
    for (const e of expiring) {
      if (seen.has(ruleKey(e.rule))) this.fail(e.path, `"${ruleKey(e.rule)}" is listed already (in rules, its file or expiring): keep one`);
      seen.add(ruleKey(e.rule));
    }
    const maxRules = t.max_rules === undefined ? undefined : this.int(t.max_rules, `${path}.max_rules`, "max_rules", 16, 16_000_000);
    return { maxRules, rules, expiring: expiring.map(({ rule, expiresMs }) => ({ rule, expiresMs })), file, feeds };
  }

  responder(v: unknown, path: string): ResponderConfig {
    const t = this.table(v, path, "[interface.responder]");
    const keys: Record<string, keyof EnableArgs> = { ports: "ports", qnames: "qname", from: "from", addresses: "address", over: "over", slip: "slip", v4_prefix: "v4-prefix", v6_prefix: "v6-prefix",
      unverified_only: "unverified-only", verified_ttl: "verified-ttl", verified_v4_prefix: "verified-v4-prefix", verified_v6_prefix: "verified-v6-prefix" };
    this.keys(t, path, Object.keys(keys), "[interface.responder]");
    const args: EnableArgs = {};
    for (const [k, flag] of Object.entries(keys)) {
      const x = t[k];
      if (x === undefined) continue;
      const p = `${path}.${k}`;
      if (k === "unverified_only") {
        if (typeof x !== "boolean") this.fail(p, "unverified_only must be true or false");
        args["unverified-only"] = x;
        continue;
      }
      if (k === "verified_ttl" && typeof x !== "string") this.fail(p, `verified_ttl must be a string, e.g. "1h"`);
      const lists = ["ports", "qnames", "from", "addresses"].includes(k);
      const s = lists ? this.list(x, p, k, (y, q) => (k === "ports" ? String(this.int(y, q, "a port", 1, 65535)) : this.str(y, q, k))).join(",") : k === "verified_ttl" ? String(x) : String(this.int(x, p, k, 0, 10_000_000));
      if (s === "" || (k === "over" && s === "0")) continue; // empty list, over = 0: no such selection
      try {
        parseEnableArgs({ [flag]: s }); // one key at a time: its mistake gets its line
      } catch (e) {
        if (e instanceof UsageError) this.fail(p, `responder ${k}: ${e.message.replace(/^--[\w-]+:\s*/, "")}`);
        throw e;
      }
      (args as Record<string, string>)[flag] = s;
    }
    try {
      return parseEnableArgs(args); // what only the keys together can get wrong (unverified_only without port 53)
    } catch (e) {
      if (e instanceof UsageError) this.fail(path, `responder: ${e.message}`);
      throw e;
    }
  }
}
