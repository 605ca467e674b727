// cli.ts — what citty leaves to us: finding the command a command line names, rejecting flags
// that command does not know, and the argument sets several commands share.
import type { ArgsDef, CommandDef } from "citty";
import { UsageError } from "../errors.ts";

/** citty's defineCommand (it returns its argument; the types make `args` typed in `run`), here so
 *  that defining commands does not load citty — and node:util with it — when only help is asked. */
export function defineCommand<const T extends ArgsDef = ArgsDef>(def: CommandDef<T>): CommandDef<T> {
  return def;
}

/** A command whose module loads only when it runs, with the one line that lists it in its
 *  group's help (help reads `summary` instead of loading the module). */
export type LazyCommand = (() => Promise<CommandDef>) & { summary: string };
export const lazyCommand = (summary: string, load: () => Promise<{ default: CommandDef }>): LazyCommand =>
  Object.assign(() => load().then((m) => m.default), { summary });

export async function value<T>(v: T | (() => T | Promise<T>) | Promise<T> | undefined): Promise<T | undefined> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

/** An argument's name as a flag is spelled (maxRules → max-rules). */
export const flagName = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The chain of commands from the root to the one the arguments name. */
export async function resolveChain(root: CommandDef, argv: string[]): Promise<CommandDef[]> {
  const chain = [root];
  let cmd = root;
  for (const a of argv) {
    if (a.startsWith("-")) continue;
    const subs = await value(cmd.subCommands);
    if (!subs) break;
    const sub = (subs as Record<string, CommandDef | (() => Promise<CommandDef>)>)[a];
    if (!sub) throw new UsageError(`unknown command "${a}"; commands: ${Object.keys(subs).join(", ")}`);
    cmd = (await value(sub)) as CommandDef;
    chain.push(cmd);
  }
  return chain;
}

/** Commands whose trailing words are one free-form argument (a rule, a tcpdump filter), and how
 *  their usage line names it. */
export const FREE_WORDS: Record<string, string> = {
  "blacklist add": "RULE...", "blacklist allow": "RULE...", "blacklist del": "RULE... | ID...", "blacklist test": "ADDR [port N/PROTO]", sample: "[FILTER...]",
};

/** Reject unknown --flags (citty silently ignores them, which hides typos like --foce), and
 *  words a command does not take (`load eth0 hello extra` would otherwise ignore "extra"). */
export async function checkFlags(chain: CommandDef[], argv: string[]): Promise<void> {
  const cmd = chain[chain.length - 1];
  const args = ((await value(cmd.args)) ?? {}) as ArgsDef;
  const known = new Set(["help", "h", "verbose"]);
  const takesValue = new Set<string>();
  const isBoolean = new Set(["help", "h", "verbose"]);
  const canonical = new Map<string, string>(); // any spelling of a value option → its name, unless repeatable
  let positionals = 0;
  for (const [name, def] of Object.entries(args)) {
    const names = [name, flagName(name), ...[def.alias ?? []].flat()];
    for (const n of names) known.add(n);
    if (def.type === "boolean") for (const n of [...names, `no-${name}`]) known.add(n), isBoolean.add(n);
    if (def.type === "string") for (const n of names) takesValue.add(n);
    if (def.type === "string" && !(def as { repeatable?: boolean }).repeatable) for (const n of names) canonical.set(n, name);
    if (def.type === "positional") positionals++;
  }
  const words: string[] = [];
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") break;
    if (!a.startsWith("-") || a === "-" || /^-\d/.test(a)) {
      words.push(a);
      continue;
    }
    // Single-letter flags grouped as tcpdump users type them (-nn, -nex): each must be known, and
    // only the last may take a value (the next word).
    const group = /^-[a-zA-Z]{2,}$/.test(a) && [...a.slice(1)].every((c) => known.has(c)) && [...a.slice(1, -1)].every((c) => !takesValue.has(c));
    const name = group ? a.slice(-1) : a.replace(/^--?/, "").split("=")[0];
    if (!known.has(name)) throw new UsageError(`unknown option ${a.split("=")[0]}`);
    // citty reads --flag=VALUE of a boolean as true for any VALUE but "false": --unverified-only=no
    // would switch the mode on. Only true and false are taken.
    const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : undefined;
    if (isBoolean.has(name) && v !== undefined && v !== "true" && v !== "false")
      throw new UsageError(`${a.split("=")[0]} is on or off and takes no value, not "${v}" (--${name.replace(/^no-/, "")} turns it on, --no-${name.replace(/^no-/, "")} off)`);
    // citty keeps only the last of a repeated option: `--qname a.test --qname b.test` would drop
    // a.test without a word. Lists are one comma-separated value.
    const once = canonical.get(name);
    if (once !== undefined && given.has(once)) throw new UsageError(`${a.split("=")[0]} is given more than once; give it once (a list as one value, comma-separated)`);
    if (once !== undefined) given.add(once);
    if (takesValue.has(name) && !a.includes("=")) {
      // Its value is the next word — unless that is another of this command's options.
      const v = argv[i + 1];
      if (v === undefined || v === "--" || (v.startsWith("--") && known.has(v.slice(2).split("=")[0])) || (/^-[a-zA-Z]$/.test(v) && known.has(v.slice(1)))) throw new UsageError(`${a} needs a value`);
      i++;
    }
  }
  const path = await Promise.all(chain.slice(1).map(async (c) => (await value(c.meta))?.name ?? ""));
  const extra = words.slice(path.length + positionals);
  if (extra.length && !(path.join(" ") in FREE_WORDS)) throw new UsageError(`unexpected argument "${extra[0]}"`);
}

/**
 * The `args` citty would give the last command of `chain`, worked out without loading citty
 * (it and node:util cost 2–3 ms of a 20 ms start) for the common lines: after the command's words,
 * only words and --FLAGs naming the command's boolean options. Null for anything else — values,
 * aliases, --no-…, "--", a missing positional — which citty parses. Values are read as citty
 * offers them: by the name as declared, camelCased or kebab-cased; `_` holds the words.
 */
export async function quickArgs(chain: CommandDef[], argv: string[]): Promise<Record<string, unknown> | null> {
  const cmd = chain[chain.length - 1], depth = chain.length - 1;
  // What citty would do besides parsing and calling run: hooks, a group's own run, defaults.
  if (cmd.subCommands || chain.some((c) => c.setup || c.cleanup) || chain.slice(0, -1).some((c) => c.run)) return null;
  if (argv.slice(0, depth).some((a) => a.startsWith("-"))) return null;
  const defs = Object.entries(((await value(cmd.args)) ?? {}) as ArgsDef);
  const out: Record<string, unknown> = { _: [] };
  const words = out._ as string[];
  for (const [name, def] of defs) if (def.type !== "positional" && def.default !== undefined) out[name] = def.default;
  for (const a of argv.slice(depth)) {
    if (!a.startsWith("-")) {
      words.push(a);
      continue;
    }
    const flag = defs.find(([name, def]) => def.type === "boolean" && (a === `--${name}` || a === `--${flagName(name)}`));
    if (!flag) return null;
    out[flag[0]] = true;
  }
  if (defs.some(([name, def]) => def.type !== "positional" && def.required && out[name] === undefined)) return null;
  const rest = [...words];
  for (const [name, def] of defs) {
    if (def.type !== "positional") continue;
    const w = rest.shift();
    if (w === undefined && def.default === undefined && def.required !== false) return null; // citty says what is missing
    out[name] = w ?? def.default;
  }
  const camel = (p: string) => p.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return new Proxy(out, { get: (t, p) => (typeof p === "string" ? t[p] ?? t[camel(p)] ?? t[flagName(p)] : undefined) });
}

/** Parse a whole number option with bounds, as a usage error. */
export function intArg(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const s = String(v);
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
  if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max) throw new UsageError(`--${name} must be a whole number ${range}, not "${s}"`);
  return Number(s);
}

/** A duration: "90", "90s", "10m", "2h", "1d" → seconds (at least 1). */
export function durationArg(name: string, v: unknown): number {
  const s = String(v);
  const m = s.match(/^(\d{1,9})([smhd]?)$/);
  if (!m || Number(m[1]) === 0) throw new UsageError(`invalid --${name} "${s}" (a positive number with s, m, h or d, e.g. 10m)`);
  return Number(m[1]) * { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "" | "s"];
}

/** Seconds as durationArg reads them back, in the largest unit that divides them (3600 → "1h"). */
export function durationText(seconds: number): string {
  for (const [unit, n] of [["d", 86400], ["h", 3600], ["m", 60]] as const) if (seconds % n === 0) return `${seconds / n}${unit}`;
  return `${seconds}s`;
}

/** The interface a command works on, first on its line: a name, or NETNS/IFNAME for one in a namespace. */
export const interfaceArg = { interface: { type: "positional", required: true, description: "Interface name, or NETNS/IFNAME" } } as const;
export const jsonArg = { json: { type: "boolean", description: "Print JSON instead of a table" } } as const;
export const forceArg = { force: { type: "boolean", description: "Replace or remove an XDP program that xdptool did not load" } } as const;
export const xdpModeArg = {
  mode: { type: "string", description: "XDP mode: native, skb or auto (native, falling back to skb)", default: "auto" },
} as const;

/** The --mode of an attaching command, checked. */
export function xdpMode(v: string): "auto" | "native" | "skb" {
  if (v !== "auto" && v !== "native" && v !== "skb") throw new UsageError(`--mode must be auto, native or skb, not "${v}"`);
  return v;
}
