// man.ts — manual pages in roff, generated from the same command definitions as --help:
// xdptool(8), xdptool-blacklist(8), xdptool-blacklist-add(8), … (`xdptool man [COMMAND…]`).
import type { ArgDef, CommandDef } from "citty";
import { flagName } from "./define.ts";
import { commandShape, optionText } from "./help.ts";
import { VERSION } from "../version.ts";

/** Text as roff: backslashes and dashes escaped, no line starting a request. */
const esc = (s: string) => s.replace(/\\/g, "\\e").replace(/-/g, "\\-").replace(/^([.'])/gm, "\\&$1");

function optionName(name: string, def: ArgDef): string {
  const flag = `\\fB\\-\\-${flagName(name).replace(/-/g, "\\-")}\\fR`;
  const aliases = [def.alias ?? []].flat().map((a) => `\\fB\\-${a}\\fR, `).join("");
  const hint = def.type === "string" ? ` \\fI${name.toUpperCase().replace(/-/g, "_")}\\fR` : "";
  return aliases + flag + hint;
}

/** The description as paragraphs (.PP) and example blocks (.EX … .EE, columns kept). */
function body(text: string): string[] {
  const out: string[] = [];
  let inEx = false;
  for (const raw of text.split("\n")) {
    const l = raw.trimEnd(), ex = /^\s+(xdptool|source|ip|bpftool)( |$)/.test(l); // "xdptool's pins" is prose
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
  const { words, meta, positional, options, usage, subs } = await commandShape(chain);
  const title = words.join("-").toUpperCase(), name = words.join("-");
  const [summary, ...rest] = (meta.description ?? "").split("\n");
  // The help's "Examples:" block becomes its own section.
  const exAt = rest.findIndex((l) => l.trim() === "Examples:");
  // It ends where prose indented as the description starts again: that text stays in DESCRIPTION.
  const exEnd = exAt < 0 ? -1 : rest.findIndex((l, i) => i > exAt && l.trim() !== "" && /^ {0,2}\S/.test(l));
  const about = (exAt < 0 ? rest : [...rest.slice(0, exAt), ...(exEnd < 0 ? [] : rest.slice(exEnd))]).join("\n");
  const examples = exAt < 0 ? [] : rest.slice(exAt + 1, exEnd < 0 ? undefined : exEnd);
  const synopsis = usage.map((w, i) => (i < words.length ? `\\fB${esc(w)}\\fR` : `\\fI${esc(w)}\\fR`));

  const out = [
    `.TH ${esc(title)} 8 "" "xdptool ${VERSION}" "System Manager's Manual"`,
    ".SH NAME", `${esc(name)} \\- ${esc(summary.replace(/\.$/, ""))}`,
    ".SH SYNOPSIS", synopsis.join(" "),
    ".SH DESCRIPTION", esc(summary), ...(about.trim() ? [".PP", ...body(about)] : []),
  ];
  if (positional.length) out.push(".SH ARGUMENTS", ...positional.flatMap(([n, d]) => [".TP", `\\fI${n.toUpperCase()}\\fR`, esc(d.description ?? "")]));
  if (options.length) out.push(".SH OPTIONS", ...options.flatMap(([n, d]) => [".TP", optionName(n, d), esc(optionText(d))]));
  if (subs) out.push(".SH COMMANDS", ...subs.flatMap(([n, summary]) => [".TP", `\\fB${esc(n)}\\fR`, `${esc(summary)} See \\fB${esc(`${name}-${n}`)}\\fR(8).`]));
  if (examples.some((l) => l.trim())) out.push(".SH EXAMPLES", ".EX", ...examples.filter((l) => l.trim()).map((l) => esc(l.trim())), ".EE");
  out.push(
    ".SH EXIT STATUS", "0 on success; 1 when the operation failed (the reason is one line on standard error); 2 for bad usage or bad input, with nothing changed.",
    ".SH FILES", ".TP", "\\fI/sys/fs/bpf/xdptool/IFACE/\\fR", "Maps pinned for an interface: rules, settings and counters that outlive the command.",
    ".TP", "\\fI/run/xdptool/\\fR", "Lock files: one writer per interface and feature at a time. The embedded libbpf shared object, extracted by root's first run (libxdptool\\-bpf\\-HASH.so).",
    ".TP", "\\fI/var/lib/xdptool/feeds.json\\fR", "Blocklist feeds: per interface and URL, the validators (ETag, Last-Modified) and the time of the last success; the body last applied in \\fIfeeds/\\fR beside it. \\fBXDPTOOL_STATE_DIR\\fR moves the directory.",
    ".SH SEE ALSO", `${chain.length > 1 ? `\\fB${esc(words.slice(0, -1).join("-"))}\\fR(8), ` : ""}\\fBbpftool\\fR(8), \\fBxdp\\-loader\\fR(8), \\fBtcpdump\\fR(8), \\fBnft\\fR(8)`,
  );
  return out.join("\n") + "\n";
}
