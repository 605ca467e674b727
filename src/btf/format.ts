// format.ts — bytes ⇄ values by BTF type: map keys and values shown as the structs they are.
//
// A value is a number (a bigint for 64-bit ints), a string (IP/MAC addresses, char arrays, enum
// names), an array or an object. Byte arrays of 4, 16 and 6 bytes and 32-bit fields named like an
// address are shown as IPv4, IPv6 and MAC addresses; types without a layout as hex.
import { formatIPv4, formatIPv6, formatMac, parseIPv4, parseIPv6, parseMac } from "../net/addr.ts";
import type { Btf, BtfType } from "./parse.ts";

export type Value = number | bigint | boolean | string | Value[] | { [k: string]: Value };

const ADDR_NAME = /(^|_)(addr|ip|ip4|ipv4|ip6|ipv6|saddr|daddr|src|dst|mac|smac|dmac|h_source|h_dest)$/i;

export class ShapeError extends Error {}

function isByte(t: BtfType): boolean {
  return t.kind === "int" && t.size === 1;
}

/** How a byte array or 32-bit int is shown as an address, if it is one. */
function addrKind(btf: Btf, id: number, field: string): "ipv4" | "ipv6" | "mac" | null {
  const t = btf.resolve(id);
  if (t.kind === "array" && isByte(btf.resolve(t.elem)) && !(btf.resolve(t.elem) as { char: boolean }).char) {
    if (t.nelems === 4) return "ipv4";
    if (t.nelems === 16) return "ipv6";
    if (t.nelems === 6) return "mac";
  }
  if (t.kind === "int" && t.size === 4 && !t.signed && (ADDR_NAME.test(field) || /^__be32$/.test(btf.nameOf(id)) && ADDR_NAME.test(field))) return "ipv4";
  return null;
}

const isChar = (t: BtfType) => t.kind === "int" && t.size === 1 && (t.char || t.name === "char");

export function decode(btf: Btf, id: number, b: Buffer, off = 0, field = ""): Value {
  const a = addrKind(btf, id, field);
  if (a === "ipv4") return formatIPv4(b.subarray(off, off + 4));
  if (a === "ipv6") return formatIPv6(b.subarray(off, off + 16));
  if (a === "mac") return formatMac(b.subarray(off, off + 6));
  const t = btf.resolve(id);
  switch (t.kind) {
    case "int": {
      if (t.bool) return b[off] !== 0;
      if (t.size === 8) return t.signed ? b.readBigInt64LE(off) : b.readBigUInt64LE(off);
      if (t.size === 16) return b.readBigUInt64LE(off) | (b.readBigUInt64LE(off + 8) << 64n);
      return t.signed ? b.readIntLE(off, t.size) : b.readUIntLE(off, t.size);
    }
    case "enum": {
      const v = t.size === 8 ? b.readBigUInt64LE(off) : BigInt(t.signed ? b.readIntLE(off, t.size) : b.readUIntLE(off, t.size));
      return t.values.find((e) => e.value === v)?.name ?? Number(v);
    }
    case "array": {
      const et = btf.resolve(t.elem);
      if (isChar(et)) {
        const s = b.subarray(off, off + t.nelems);
        const z = s.indexOf(0);
        return s.toString("latin1", 0, z < 0 ? s.length : z);
      }
      const es = btf.sizeOf(t.elem);
      return Array.from({ length: t.nelems }, (_, i) => decode(btf, t.elem, b, off + i * es));
    }
    case "struct": case "union": {
      const o: Record<string, Value> = {};
      for (const m of t.members) {
        if (m.bitSize) {
          const word = b.readBigUInt64LE(off + Math.floor(m.bitOffset / 64) * 8);
          o[m.name] = Number((word >> BigInt(m.bitOffset % 64)) & ((1n << BigInt(m.bitSize)) - 1n));
        } else o[m.name || "(anon)"] = decode(btf, m.type, b, off + m.bitOffset / 8, m.name);
      }
      return o;
    }
    case "datasec": {
      const o: Record<string, Value> = {};
      for (const v of t.vars) o[btf.types[v.type].name] = decode(btf, v.type, b, off + v.offset);
      return o;
    }
    default:
      return hex(b.subarray(off, off + btf.sizeOf(id)));
  }
}

export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}

/** Bytes from "0a 00 00 01" or "0x0a000001" (as bytes, in order). */
export function parseHex(s: string, size: number, shape: string): Buffer {
  const digits = s.replace(/^0x/i, "").replace(/[\s:]/g, "");
  if (!/^([0-9a-f]{2})+$/i.test(digits)) throw new ShapeError(`expected ${shape} as hex bytes`);
  const out = Buffer.from(digits, "hex");
  if (out.length !== size) throw new ShapeError(`expected ${shape}, got ${out.length} bytes`);
  return out;
}

function toBig(v: Value, what: string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "string" && /^-?(0x[0-9a-f]+|\d+)$/i.test(v)) return v.startsWith("-") ? -BigInt(v.slice(1)) : BigInt(v);
  throw new ShapeError(`expected ${what}, got ${typeof v === "object" ? show(v) : JSON.stringify(String(v))}`);
}

/** Write `v` as type `id` into `b` at `off`; throws ShapeError naming what was expected. */
export function encode(btf: Btf, id: number, v: Value, b: Buffer, off = 0, field = ""): void {
  const a = addrKind(btf, id, field);
  if (a && typeof v === "string" && !/^(0x)?[0-9a-f]+$/i.test(v)) {
    const parsed = a === "ipv4" ? parseIPv4(v) : a === "ipv6" ? parseIPv6(v) : parseMac(v);
    if (!parsed) throw new ShapeError(`expected an ${a === "mac" ? "MAC" : a.toUpperCase()} address for ${field || btf.nameOf(id)}, got "${v}"`);
    b.set(parsed, off);
    return;
  }
  const t = btf.resolve(id);
  const what = field ? `${btf.nameOf(id)} for ${field}` : btf.nameOf(id);
  switch (t.kind) {
    case "int": case "enum": {
      let n: bigint;
      if (t.kind === "enum" && typeof v === "string" && t.values.some((e) => e.name === v)) n = t.values.find((e) => e.name === v)!.value;
      else n = toBig(v, what);
      const bits = BigInt(t.size * 8), signed = t.kind === "int" ? t.signed : t.signed;
      const min = signed ? -(1n << (bits - 1n)) : 0n, max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
      if (n < min || n > max) throw new ShapeError(`${n} does not fit ${what} (${min}..${max})`);
      const u = n < 0n ? (1n << bits) + n : n;
      for (let i = 0; i < t.size; i++) b[off + i] = Number((u >> BigInt(8 * i)) & 0xffn);
      return;
    }
    case "array": {
      const et = btf.resolve(t.elem), es = btf.sizeOf(t.elem);
      if (isChar(et) && typeof v === "string") {
        if (v.length >= t.nelems + 1) throw new ShapeError(`"${v}" is longer than ${what}`);
        b.write(v, off, "latin1");
        return;
      }
      if (!Array.isArray(v) || v.length !== t.nelems) throw new ShapeError(`expected ${t.nelems} elements for ${what}`);
      v.forEach((x, i) => encode(btf, t.elem, x, b, off + i * es));
      return;
    }
    case "struct": case "union": {
      if (typeof v !== "object" || Array.isArray(v)) throw new ShapeError(`expected { … } for ${what}`);
      const o = v as Record<string, Value>;
      const known = new Set(t.members.map((m) => m.name));
      for (const k of Object.keys(o)) if (!known.has(k)) throw new ShapeError(`${what} has no field "${k}"`);
      for (const m of t.members) {
        if (!(m.name in o)) {
          if (t.kind === "union") continue;
          throw new ShapeError(`missing field "${m.name}"`);
        }
        if (m.bitSize) throw new ShapeError(`bitfield ${m.name} cannot be written`);
        encode(btf, m.type, o[m.name], b, off + m.bitOffset / 8, m.name);
      }
      return;
    }
    default:
      if (typeof v !== "string") throw new ShapeError(`expected hex bytes for ${what}`);
      b.set(parseHex(v, btf.sizeOf(id), what), off);
  }
}

/** Text form of a value, the same syntax the value parser reads back: {a: 1, b: [1, 2], c: 198.18.0.1}. */
export function show(v: Value): string {
  if (typeof v === "bigint" || typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v === "string") return /^[\w.:\-]+$/.test(v) ? v : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(show).join(", ")}]`;
  return `{${Object.entries(v).map(([k, x]) => `${k}: ${show(x)}`).join(", ")}}`;
}

/** Sum per-CPU values field by field (numbers add; anything else is taken from the first CPU). */
export function sum(vals: Value[]): Value {
  const [first, ...rest] = vals;
  if (typeof first === "bigint") return rest.reduce<bigint>((s, x) => s + (x as bigint), first);
  if (typeof first === "number") return rest.reduce<number>((s, x) => s + (x as number), first);
  if (Array.isArray(first)) return first.map((_, i) => sum(vals.map((v) => (v as Value[])[i])));
  if (first && typeof first === "object") {
    const o: Record<string, Value> = {};
    for (const k of Object.keys(first)) o[k] = sum(vals.map((v) => (v as Record<string, Value>)[k]));
    return o;
  }
  return first;
}

/** JSON-safe: bigints become numbers when exact, strings otherwise. */
export function jsonSafe(v: Value): unknown {
  if (typeof v === "bigint") return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}
