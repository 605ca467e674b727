// sources.ts — IPv4 sources for the traffic generator (`lab traffic --src-random / --src-from`):
// addresses and prefixes as two columns, the form tx.bpf.c's tx_sources map takes. A list of one
// prefix is what --src-random gives. Columns, not objects: lists run to millions of entries.
import { UsageError } from "../errors.ts";
import { parsePrefix } from "./addr.ts";
import { readRulesFile } from "../blacklist/source.ts";

/** The generator's limit: 4M entries of 8 bytes is a 32 MiB map. */
export const MAX_SOURCES = 4 << 20;

export interface SourceList {
  /** Network addresses, host byte order. */
  addr: Uint32Array;
  /** Host bits drawn at random per frame: 0 for an address, 0xff for a /24 … */
  hostmask: Uint32Array;
  n: number;
  /** Send the entries in list order, round and round, instead of drawing one at random per frame:
   *  for a list shuffled beforehand, where a random read per frame would cost the generator a cache
   *  miss (the flood bench, whose receiver must be what sets the pace). */
  inOrder?: boolean;
}

const hostmask = (len: number) => (len === 0 ? 0xffffffff : ((1 << (32 - len)) >>> 0) - 1);

export function sourceList(addr: Uint32Array, len: Uint8Array | number[]): SourceList {
  const masks = new Uint32Array(addr.length);
  for (let i = 0; i < addr.length; i++) masks[i] = hostmask(len[i]);
  return { addr, hostmask: masks, n: addr.length };
}

/** One prefix (--src-random) as a list of one entry. */
export function sourcePrefix(s: string, flag = "--src-random"): SourceList {
  let p;
  try {
    p = parsePrefix(s);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${flag}: ${e.message}`);
    throw e;
  }
  if (p.family !== 4) throw new UsageError(`${flag} ${s}: an IPv4 prefix is needed (the sources are IPv4 only)`);
  return sourceList(Uint32Array.of(new DataView(p.addr.buffer).getUint32(0)), [p.len]);
}

/**
 * Parse "a.b.c.d" or "a.b.c.d/len" at text[i…] by char codes, ending at a blank, a comment or the
 * line's end: the prefix length (the address in `parsed`), or -1. Hand-made, and without an
 * object per line: regular expressions and substrings made a million-line list take 1.3 s.
 */
let parsed = 0;
function ipv4At(text: string, i: number, end: number): number {
  // acc: the number being read; before the "/" it is an octet, after it the prefix length.
  let addr = 0, acc = 0, digits = 0, dots = 0, slash = false;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      acc = acc * 10 + c - 48;
      if (++digits > 3) return -1;
    } else if ((c === 46 && dots < 3) || (c === 47 && dots === 3)) {
      if (!digits || slash || acc > 255) return -1;
      addr = addr * 256 + acc;
      if (c === 46) dots++;
      else slash = true;
      acc = digits = 0;
    } else if (c === 32 || c === 9 || c === 13 || c === 35 || c === 59) break; // blank, \r, # ;
    else return -1;
  }
  if (dots !== 3 || !digits) return -1;
  if (!slash) {
    if (acc > 255) return -1;
    addr = addr * 256 + acc;
    acc = 32;
  } else if (acc > 32 || digits > 2) return -1;
  parsed = addr;
  return acc;
}

const LOOKS_V4 = /^\d+\.[\d./]*$/;

/**
 * The IPv4 addresses and prefixes of a list, read loosely so a blacklist rule file works: the first
 * word of each line if it is IPv4; comments (# and ;), blank lines, IPv6 and other rules are skipped.
 * A first word that looks IPv4 but is not (1.2.3.400, /33) is an error: a typo would shrink the list.
 */
export function parseSourceList(text: string, name: string): SourceList {
  let cap = 1024, n = 0;
  let addr = new Uint32Array(cap), len = new Uint8Array(cap);
  // One pass with indexOf, no split: a million lines would be a million strings.
  for (let start = 0, line = 1; start < text.length; line++) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    let i = start;
    while (i < end && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    const l = ipv4At(text, i, end);
    if (l < 0) {
      const word = text.slice(i, end).replace(/[#;].*$/, "").trim().split(/\s+/, 1)[0];
      if (word && LOOKS_V4.test(word)) throw new UsageError(`${name}:${line}: "${word}" is not an IPv4 address or prefix`);
    }
    start = end + 1;
    if (l < 0) continue;
    if (n === MAX_SOURCES) throw new UsageError(`${name}: more than ${MAX_SOURCES} IPv4 sources (the generator's limit); use a shorter list`);
    if (n === cap) {
      cap *= 2;
      const a2 = new Uint32Array(cap), l2 = new Uint8Array(cap);
      a2.set(addr);
      l2.set(len);
      addr = a2;
      len = l2;
    }
    addr[n] = (parsed & ~hostmask(l)) >>> 0;
    len[n++] = l;
  }
  if (n === 0) throw new UsageError(`${name}: no IPv4 address or prefix in it (one per line, first word)`);
  return sourceList(addr.subarray(0, n), len.subarray(0, n));
}

/** --src-from FILE ("-" for stdin); the file checks of `blacklist import` (binary data, size). */
export function readSourceList(path: string): SourceList {
  return parseSourceList(readRulesFile(path), path === "-" ? "<stdin>" : path);
}
