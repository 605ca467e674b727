// source.ts — read a rule file (or stdin) in chunks, refusing what cannot be a rule list before
// it is held in memory whole: a NUL byte (binary data), a line longer than any rule, a file
// larger than MAX_FILE. A 2 GB one-line file fails on its first 4 KiB, not after reading it.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { UsageError } from "../errors.ts";
import { MAX_LINE } from "./parse.ts";

const MAX_FILE = 512 * 1024 * 1024;
const CHUNK = 1 << 20;

function openRules(path: string): number {
  try {
    return openSync(path, "r");
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT") throw new UsageError(`no such file: ${path}`);
    if (code === "EACCES" || code === "EPERM") throw new UsageError(`${path}: permission denied`);
    throw new UsageError(`${path}: cannot open (${code ?? (e as Error).message})`);
  }
}

/** The file's text (latin1: every byte one character, so offsets and line numbers are exact; the
 *  parser reads a line with other bytes as UTF-8). */
export function readRulesFile(path: string): string {
  const name = path === "-" ? "<stdin>" : path;
  const fd = path === "-" ? 0 : openRules(path);
  try {
    if (path !== "-" && fstatSync(fd).isDirectory()) throw new UsageError(`${path} is a directory; expected a rule file`);
    const chunks: Buffer[] = [];
    let total = 0, line = 1, lineLen = 0;
    for (;;) {
      const b = Buffer.allocUnsafe(CHUNK);
      let n: number;
      try {
        n = readSync(fd, b, 0, CHUNK, null);
      } catch (e) {
        if ((e as { code?: string }).code === "EAGAIN") { Bun.sleepSync(1); continue; } // a non-blocking stdin
        throw new UsageError(`${name}: cannot read (${(e as { code?: string }).code ?? (e as Error).message})`);
      }
      if (n === 0) break;
      const c = b.subarray(0, n);
      const nul = c.indexOf(0);
      for (let at = 0; ; ) {
        const nl = c.indexOf(10, at);
        const stop = nul >= 0 && (nl < 0 || nul < nl) ? nul : nl;
        lineLen += (stop < 0 ? n : stop) - at;
        if (lineLen > MAX_LINE) throw new UsageError(`${name}:${line}: line is longer than ${MAX_LINE} characters; expected one rule per line`);
        if (stop < 0) break;
        if (stop === nul) throw new UsageError(`${name}:${line}: binary data (NUL byte); expected text, one rule per line`);
        line++;
        lineLen = 0;
        at = nl + 1;
      }
      total += n;
      if (total > MAX_FILE) throw new UsageError(`${name} is larger than ${MAX_FILE >> 20} MiB`);
      chunks.push(c);
    }
    return Buffer.concat(chunks, total).toString("latin1");
  } finally {
    if (path !== "-") closeSync(fd);
  }
}
