// toml.ts — TOML for the configuration file: parsing through Bun's own parser, with the line of
// every table, key and array element (Bun's parser gives none, not even for its syntax errors),
// and the few pieces `save` needs to write it (strings, keys).
import { UsageError } from "../errors.ts";

/** Lines of the parsed document, by path: `interface[0].blacklist.rules[3]`. */
export class TomlLines {
  constructor(private readonly at: Map<string, number>) {}
  /** The line of a path, or of the nearest enclosing one the file spells out (1 at worst). */
  near(path: string): number {
    for (let p = path; p; p = p.replace(/(\[\d+\]|\.?[^.[]+)$/, "")) {
      const l = this.at.get(p);
      if (l !== undefined) return l;
    }
    return 1;
  }
}

/** Parse a TOML file; a syntax error is `FILE:LINE: reason`, a usage error (exit 2). */
export function parseToml(text: string, file: string): { doc: Record<string, unknown>; lines: TomlLines } {
  try {
    return { doc: Bun.TOML.parse(text) as Record<string, unknown>, lines: new TomlLines(locate(text)) };
  } catch (e) {
    const reason = String((e as Error).message ?? e).replace(/^TOML Parse error:\s*/, "");
    throw new UsageError(`${file}:${errorLine(text)}: ${reason}`);
  }
}

/** Does this text fail with something other than running out of input? */
function failsBeforeEnd(text: string): boolean {
  try {
    Bun.TOML.parse(text);
    return false;
  } catch (e) {
    return !/end of file/i.test(String((e as Error).message));
  }
}

/**
 * The line of a syntax error: the shortest run of leading lines that already fails for a reason
 * other than ending too soon (a cut through an array only runs out of input). Binary search: once
 * the bad line is in, every longer run fails at it. A file that only runs out of input (an
 * unclosed array) fails at its last line.
 */
function errorLine(text: string): number {
  const lines = text.split("\n");
  let lo = 0, hi = lines.length; // lines [0, lo) parse; [0, hi) fail (or hi = all lines)
  if (!failsBeforeEnd(text)) return lines.length - (lines[lines.length - 1] === "" ? 1 : 0);
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (failsBeforeEnd(lines.slice(0, mid).join("\n") + "\n")) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * Where each table, key and array element starts. A small scanner that knows strings, comments,
 * arrays and inline tables, only to number lines: Bun's parser has decided the document is valid.
 */
function locate(text: string): Map<string, number> {
  const at = new Map<string, number>();
  const arrays = new Map<string, number>(); // [[x]] tables seen so far, by path
  let i = 0, line = 1, table = "";
  const n = text.length;
  const join = (a: string, b: string) => (a ? `${a}.${b}` : b);
  const skipSpace = (newlines: boolean) => {
    for (; i < n; i++) {
      const c = text[i];
      if (c === "#") while (i < n && text[i] !== "\n") i++;
      if (i >= n) return;
      if (text[i] === "\n") {
        if (!newlines) return;
        line++;
      } else if (text[i] !== " " && text[i] !== "\t" && text[i] !== "\r") return;
    }
  };
  const skipString = () => {
    const q = text[i];
    const triple = text.startsWith(q.repeat(3), i);
    i += triple ? 3 : 1;
    for (; i < n; i++) {
      if (text[i] === "\n") line++;
      else if (text[i] === "\\" && q === '"') i++;
      else if (triple ? text.startsWith(q.repeat(3), i) : text[i] === q) {
        i += triple ? 3 : 1;
        while (triple && text[i] === q) i++; // up to two quotes may end the content
        return;
      }
    }
  };
  const readKey = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skipSpace(false);
      if (text[i] === '"' || text[i] === "'") {
        const s = i;
        skipString();
        parts.push(text.slice(s + 1, i - 1));
      } else {
        const s = i;
        while (i < n && /[A-Za-z0-9_-]/.test(text[i])) i++;
        parts.push(text.slice(s, i));
      }
      skipSpace(false);
      if (text[i] !== ".") return parts;
      i++;
    }
  };
  const value = (path: string) => {
    skipSpace(false);
    const c = text[i];
    if (c === '"' || c === "'") return skipString();
    if (c === "[" || c === "{") {
      const close = c === "[" ? "]" : "}";
      i++;
      for (let k = 0; i < n; k++) {
        skipSpace(true);
        if (text[i] === close) break;
        if (c === "[") {
          at.set(`${path}[${k}]`, line);
          value(`${path}[${k}]`);
        } else {
          const key = join(path, readKey().join("."));
          at.set(key, line);
          i++; // '='
          value(key);
        }
        skipSpace(true);
        if (text[i] === ",") i++;
      }
      i++;
      return;
    }
    while (i < n && !",]}\n#".includes(text[i])) i++;
  };
  while (i < n) {
    skipSpace(true);
    if (i >= n) break;
    if (text[i] === "[") {
      const many = text[i + 1] === "[";
      i += many ? 2 : 1;
      const keys = readKey();
      let p = "";
      keys.forEach((k, j) => {
        p = join(p, k);
        const last = j === keys.length - 1;
        if (many && last) {
          const count = arrays.get(p) ?? 0;
          arrays.set(p, count + 1);
          p = `${p}[${count}]`;
        } else if (arrays.has(p)) p = `${p}[${arrays.get(p)! - 1}]`;
      });
      table = p;
      at.set(p, line);
      while (i < n && text[i] !== "\n") i++;
      continue;
    }
    const key = join(table, readKey().join("."));
    at.set(key, line);
    i++; // '='
    value(key);
    while (i < n && text[i] !== "\n") i++;
  }
  return at;
}

/** A TOML basic string. */
export function tomlString(s: string): string {
  return `"${s.replace(/[\\"\x00-\x1f\x7f]/g, (c) => (c === "\\" ? "\\\\" : c === '"' ? '\\"' : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`))}"`;
}

/** A list of strings, one per line when long. */
export function tomlStrings(items: string[], indent = "  "): string {
  const flat = `[${items.map(tomlString).join(", ")}]`;
  if (flat.length <= 80) return flat;
  return `[\n${items.map((s) => `${indent}${tomlString(s)},\n`).join("")}]`;
}
