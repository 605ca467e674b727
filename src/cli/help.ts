// help.ts — `--help` text, and `xdptool help COMMAND…`: the command's description as written,
// a usage line with its full path (`xdptool blacklist add [OPTIONS] RULE...`), its arguments,
// options and subcommands, wrapped to the terminal (COLUMNS, else 80 when not a terminal).
import type { ArgDef, ArgsDef, CommandDef, CommandMeta } from "citty";
import { FREE_WORDS, flagName, type LazyCommand, value } from "./define.ts";
import { libc } from "../ffi/native.ts";

/** isatty(3) itself: node:tty costs ~5 ms to load, and node:fs (readlink of /proc/self/fd/N) ~2. */
const isTerminal = (fd: number): boolean => libc.symbols.isatty(fd) === 1;

/** Columns to fill: the terminal's, $COLUMNS, or 80. */
export function helpWidth(): number {
  // process.stdout (and node:tty) cost more to create than the rest of --help: ask only a terminal.
  const tty = isTerminal(1) ? process.stdout.columns : 0;
  return Math.max(40, tty || Number(process.env.COLUMNS) || 80);
}

/** One line broken at spaces to `width`, continuation lines indented by `hang` spaces. */
function wrap(line: string, width: number, hang: number): string[] {
  if (line.length <= width) return [line];
  const out: string[] = [];
  let rest = line;
  while (rest.length > width) {
    let cut = rest.lastIndexOf(" ", width);
    if (cut <= hang) cut = rest.indexOf(" ", width); // one long word: let it overflow
    if (cut < 0) break;
    out.push(rest.slice(0, cut).trimEnd());
    rest = " ".repeat(hang) + rest.slice(cut + 1).trimStart();
  }
  out.push(rest);
  return out;
}

const indentOf = (l: string) => l.match(/^ */)![0].length;
// A command word, then a space: "xdptool's pin directory" in prose is not an example.
const isExample = (l: string) => /^\s*(xdptool|ip|bpftool|tcpdump|dig|curl)( |$)/.test(l) || /^\s*\S.*  # /.test(l);

/**
 * A description as its author laid it out, fitted to the width: prose (runs of lines with one
 * indent) is joined and wrapped again; an example line keeps its columns, and a comment that
 * would not fit moves under its command.
 */
function paragraph(text: string, width: number): string[] {
  const lines = text.split("\n").map((l) => l.trimEnd());
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    const l = lines[i], ind = indentOf(l);
    if (!l || isExample(l) || l.endsWith(":")) {
      if (l.length > width && isExample(l) && l.includes("  # ")) {
        const at = l.indexOf("  # ");
        out.push(...wrap(l.slice(0, at).trimEnd(), width, ind + 4), ...wrap(`${" ".repeat(ind + 2)}${l.slice(at + 2)}`, width, ind + 4));
      } else out.push(...wrap(l, width, ind + 4));
      i++;
      continue;
    }
    let j = i + 1;
    while (j < lines.length && lines[j] && indentOf(lines[j]) === ind && !isExample(lines[j]) && !lines[j].endsWith(":")) j++;
    out.push(...wrap(" ".repeat(ind) + lines.slice(i, j).map((x) => x.trim()).join(" "), width, ind));
    i = j;
  }
  return out;
}

/** Rows of a two-column table: names left, text wrapped in the right column. */
function columns(rows: [string, string][], width: number): string[] {
  const left = Math.min(30, Math.max(...rows.map(([n]) => n.length)));
  return rows.flatMap(([n, d]) => {
    const head = `  ${n.padEnd(left)}  `;
    if (n.length > left) return [`  ${n}`, ...wrap(" ".repeat(left + 4) + d, width, left + 4)];
    return wrap(head + d, width, left + 4);
  });
}

/** What help, man pages and completion say of a command, from its definition: the words that
 *  name it, its listed arguments (hidden old spellings left out), its usage line as words, and
 *  its subcommands with their one-line summaries. */
export interface Shape {
  words: string[];
  meta: CommandMeta;
  positional: [string, ArgDef][];
  options: [string, ArgDef][];
  /** path words, then [OPTIONS], the positionals, free words, COMMAND */
  usage: string[];
  subs: [string, string][] | null;
}

export async function commandShape(chain: CommandDef[]): Promise<Shape> {
  const cmd = chain[chain.length - 1];
  const metas = (await Promise.all(chain.map((c) => value(c.meta)))) as CommandMeta[];
  const words = metas.map((m) => m.name!);
  const args = ((await value(cmd.args)) ?? {}) as ArgsDef;
  const shown = Object.entries(args).filter(([, d]) => !(d as { hidden?: boolean }).hidden); // old spellings still work, unlisted
  const positional = shown.filter(([, d]) => d.type === "positional");
  const options = shown.filter(([, d]) => d.type !== "positional");
  const defs = (await value(cmd.subCommands)) as Record<string, CommandDef | (() => Promise<CommandDef>)> | undefined;
  let subs: [string, string][] | null = null;
  if (defs) {
    // All subcommands' modules at once: one after another costs a round of module loading each.
    // A lazy command's summary stands for its description's first line: no module to load.
    const metaOf = async (sub: CommandDef | (() => Promise<CommandDef>)): Promise<CommandMeta> =>
      "summary" in sub ? { description: (sub as LazyCommand).summary } : ((await value(((await value(sub)) as CommandDef).meta)) as CommandMeta);
    const subMetas = await Promise.all(Object.values(defs).map(metaOf));
    subs = Object.keys(defs).flatMap((name, i) => (subMetas[i].hidden ? [] : [[name, (subMetas[i].description ?? "").split("\n")[0]] as [string, string]]));
  }
  const usage = [...words];
  if (options.length) usage.push("[OPTIONS]");
  for (const [n, d] of positional) usage.push(d.required === false || d.default !== undefined ? `[${n.toUpperCase()}]` : n.toUpperCase());
  const free = FREE_WORDS[words.slice(1).join(" ")];
  if (free && !positional.some(([n]) => n === "filter")) usage.push(free);
  if (subs) usage.push("COMMAND");
  return { words, meta: metas[metas.length - 1], positional, options, usage, subs };
}

function optionName(name: string, def: ArgDef): string {
  const flag = flagName(name);
  const aliases = [def.alias ?? []].flat().map((a) => `-${a}, `).join("");
  const hint = def.type === "string" ? ` ${(def as { valueHint?: string }).valueHint ?? flag.toUpperCase().replace(/-/g, "_")}` : "";
  return `${aliases || "    "}--${flag}${hint}`;
}

/** An option's description, with its default when the description does not give it. */
export function optionText(def: ArgDef): string {
  const d = def.description ?? "";
  const dflt = "default" in def && def.default !== undefined && def.type !== "boolean" && !/default/i.test(d) ? ` (default: ${def.default})` : "";
  return d + dflt;
}

/** The help text of the last command of `chain` (root first). */
export async function helpText(chain: CommandDef[], width = helpWidth()): Promise<string> {
  const { words, meta, positional, options, usage, subs } = await commandShape(chain);
  const path = words.join(" ");
  const out = [...paragraph(meta.description ?? "", width), "", ...wrap(`USAGE  ${usage.join(" ")}`, width, 7)];
  if (positional.length) out.push("", "ARGUMENTS", ...columns(positional.map(([n, d]) => [n.toUpperCase(), optionText(d)]), width));
  if (options.length) out.push("", "OPTIONS", ...columns(options.map(([n, d]) => [optionName(n, d), optionText(d)]), width));
  if (subs) out.push("", "COMMANDS", ...columns(subs, width), "", ...wrap(`"${path} COMMAND --help" (or "xdptool help ${words.slice(1).map((w) => `${w} `).join("")}COMMAND") tells more about one.`, width, 0));
  return out.join("\n");
}
