// man.ts — manual pages in roff, generated from the same command definitions as --help:
// xdptool(8), xdptool-blacklist(8), xdptool-blacklist-add(8), … (`xdptool man [COMMAND…]`).
import type { ArgDef, ArgsDef, CommandDef, CommandMeta } from "citty";
import { FREE_WORDS, value } from "./cli.ts";
import { VERSION } from "./version.ts";

/** Text as roff: backslashes and dashes escaped, no line starting a request. */
const esc = (s: string) => s.replace(/\\/g, "\\e").replace(/-/g, "\\-").replace(/^([.'])/gm, "\\&$1");

function optionName(name: string, def: ArgDef): string {
  const flag = `\\fB\\-\\-${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/-/g, "\\-")}\\fR`;
  const aliases = [def.alias ?? []].flat().map((a) => `\\fB\\-${a}\\fR, `).join("");
  const hint = def.type === "string" ? ` \\fI${name.toUpperCase().replace(/-/g, "_")}\\fR` : "";
  return aliases + flag + hint;
}

/** The description as paragraphs (.PP) and example blocks (.EX … .EE, columns kept). */
function body(text: string): string[] {
  const out: string[] = [];
  let inEx = false;
  for (const raw of text.split("\n")) {
    const l = raw.trimEnd(), ex = /^\s+(xdptool|source|ip|bpftool)\b/.test(l);
    if (ex && !inEx) out.push(".PP", ".EX"), (inEx = true);
    if (!ex && inEx) out.push(".EE"), (inEx = false);
    if (!l) {
      if (!inEx) out.push(".PP");
      continue;
    }
    out.push(esc(ex ? l.trim() : l.trim()));
  }
  if (inEx) out.push(".EE");
  return out.filter((l, i, a) => !(l === ".PP" && (a[i + 1] === ".PP" || a[i + 1] === undefined || i === 0)));
}

/** The manual page of the last command of `chain` (root first). */
export async function manPage(chain: CommandDef[]): Promise<string> {
  const metas = (await Promise.all(chain.map((c) => value(c.meta)))) as CommandMeta[];
  const words = metas.map((m) => m.name!);
  const title = words.join("-").toUpperCase(), name = words.join("-"), path = words.join(" ");
  const cmd = chain[chain.length - 1], meta = metas[metas.length - 1];
  const args = Object.entries(((await value(cmd.args)) ?? {}) as ArgsDef).filter(([, d]) => !(d as { hidden?: boolean }).hidden);
  const subs = (await value(cmd.subCommands)) as Record<string, CommandDef | (() => Promise<CommandDef>)> | undefined;
  const [summary, ...rest] = (meta.description ?? "").split("\n");
  // The help's "Examples:" block becomes its own section.
  const exAt = rest.findIndex((l) => l.trim() === "Examples:");
  const about = (exAt < 0 ? rest : rest.slice(0, exAt)).join("\n"), examples = exAt < 0 ? [] : rest.slice(exAt + 1);
  const synopsis = [`\\fB${esc(path)}\\fR`];
  if (args.some(([, d]) => d.type !== "positional")) synopsis.push("[\\fIOPTIONS\\fR]");
  for (const [n, d] of args.filter(([, d]) => d.type === "positional")) synopsis.push(d.required === false ? `[\\fI${n.toUpperCase()}\\fR]` : `\\fI${n.toUpperCase()}\\fR`);
  const free = FREE_WORDS[words.slice(1).join(" ")];
  if (free && !args.some(([n]) => n === "filter")) synopsis.push(`\\fI${esc(free)}\\fR`);
  if (subs) synopsis.push("\\fICOMMAND\\fR");

  const out = [
    `.TH ${esc(title)} 8 "" "xdptool ${VERSION}" "System Manager's Manual"`,
    ".SH NAME", `${esc(name)} \\- ${esc(summary.replace(/\.$/, ""))}`,
    ".SH SYNOPSIS", synopsis.join(" "),
    ".SH DESCRIPTION", esc(summary), ...(about.trim() ? [".PP", ...body(about)] : []),
  ];
  const positional = args.filter(([, d]) => d.type === "positional");
  if (positional.length) out.push(".SH ARGUMENTS", ...positional.flatMap(([n, d]) => [".TP", `\\fI${n.toUpperCase()}\\fR`, esc(d.description ?? "")]));
  const options = args.filter(([, d]) => d.type !== "positional");
  if (options.length) out.push(".SH OPTIONS", ...options.flatMap(([n, d]) => [".TP", optionName(n, d), esc(`${d.description ?? ""}${"default" in d && d.default !== undefined && d.type !== "boolean" ? ` (default: ${d.default})` : ""}`)]));
  if (subs) {
    out.push(".SH COMMANDS");
    for (const [n, sub] of Object.entries(subs)) {
      const m = (await value(((await value(sub)) as CommandDef).meta)) as CommandMeta;
      if (!m.hidden) out.push(".TP", `\\fB${esc(n)}\\fR`, `${esc((m.description ?? "").split("\n")[0])} See \\fB${esc(`${name}-${n}`)}\\fR(8).`);
    }
  }
  if (examples.some((l) => l.trim())) out.push(".SH EXAMPLES", ".EX", ...examples.filter((l) => l.trim()).map((l) => esc(l.trim())), ".EE");
  out.push(
    ".SH EXIT STATUS", "0 on success; 1 when the operation failed (the reason is one line on standard error); 2 for bad usage or bad input, with nothing changed.",
    ".SH FILES", ".TP", "\\fI/sys/fs/bpf/xdptool/IFACE/\\fR", "Maps pinned for an interface: rules, settings and counters that outlive the command.",
    ".TP", "\\fI/run/xdptool/\\fR", "Lock files: one writer per interface and feature at a time.",
    ".SH SEE ALSO", `${chain.length > 1 ? `\\fB${esc(words.slice(0, -1).join("-"))}\\fR(8), ` : ""}\\fBbpftool\\fR(8), \\fBxdp\\-loader\\fR(8), \\fBtcpdump\\fR(8), \\fBnft\\fR(8)`,
  );
  return out.join("\n") + "\n";
}
