// codec.ts — a map's keys and values as text and JSON, through the map's BTF (hex without it).
//
// The syntax `map dump` prints is the syntax `map get/update/delete` read:
//   42 · -1 · 0x2a · 198.18.0.1 · 2001:db8::1 · 02:78:74:00:00:01 · "text" · [1, 2] · {a: 1, b: 2}
// JSON works too ({"a": 1}); a key or value without BTF is hex bytes: "0a 00 00 01".
import { Btf } from "../btf/parse.ts";
import { decode, encode, hex, jsonSafe, parseHex, ShapeError, show, sum, type Value } from "../btf/format.ts";
import { btfBlob } from "../ffi/btf.ts";
import { possibleCpus, type BpfMap } from "../ffi/map.ts";
import { UsageError } from "../errors.ts";

/** Parse the relaxed value syntax into a Value (atoms stay strings until the type says what they are). */
export function parseText(src: string): Value {
  const toks: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|[{}\[\],=]|[^\s{}\[\],=]+)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < src.length && (m = re.exec(src))) toks.push(m[1]);
  if (src.slice(re.lastIndex).trim()) throw new ShapeError(`cannot read "${src.slice(re.lastIndex).trim()}"`);
  let i = 0;
  const atom = (t: string): Value => (t.startsWith('"') ? JSON.parse(t) : t);
  const value = (): Value => {
    const t = toks[i++];
    if (t === undefined) throw new ShapeError("value ends too early");
    if (t === "[") {
      const out: Value[] = [];
      while (toks[i] !== "]") {
        if (toks[i] === undefined) throw new ShapeError("missing ]");
        out.push(value());
        if (toks[i] === ",") i++;
      }
      i++;
      return out;
    }
    if (t === "{") {
      const out: Record<string, Value> = {};
      while (toks[i] !== "}") {
        let name = toks[i++];
        if (name === undefined) throw new ShapeError("missing }");
        let rest = "";
        // "name:" "name: v" "name:v" "\"name\":v" "name = v"
        const unq = name.startsWith('"') ? name : null;
        if (unq) {
          const end = unq.lastIndexOf('"');
          rest = unq.slice(end + 1);
          name = JSON.parse(unq.slice(0, end + 1));
        } else {
          const c = name.indexOf(":");
          if (c >= 0) [name, rest] = [name.slice(0, c), name.slice(c + 1)];
        }
        rest = rest.replace(/^:/, "");
        // Compact JSON ({"a":1}): the colon and value came as one token after the quoted name.
        if (!rest && unq && toks[i]?.startsWith(":")) rest = toks[i++].slice(1);
        if (!rest && (toks[i] === "=" || toks[i] === ":")) i++;
        out[name] = rest ? atom(rest) : value();
        if (toks[i] === ",") i++;
      }
      i++;
      return out;
    }
    return atom(t);
  };
  const v = value();
  if (i < toks.length) throw new ShapeError(`unexpected "${toks[i]}"`);
  return v;
}

/** One side (key or value) of a map: its BTF type if the map has one. */
class Side {
  constructor(readonly btf: Btf | null, readonly typeId: number, readonly size: number) {}
  get shape(): string {
    return this.btf && this.typeId ? this.btf.describe(this.typeId) : `${this.size} hex bytes`;
  }
  decode(b: Buffer, off = 0): Value {
    return this.btf && this.typeId ? decode(this.btf, this.typeId, b, off) : hex(b.subarray(off, off + this.size));
  }
  encode(text: string, what: string): Buffer {
    const out = Buffer.alloc(this.size);
    try {
      // Raw bytes work for any map, typed or not: "c6 12 00 01" (at least two bytes, spaced).
      if (/^\s*[0-9a-f]{2}(\s+[0-9a-f]{2})+\s*$/i.test(text)) out.set(parseHex(text, this.size, `${what} of ${this.size} bytes`));
      else if (this.btf && this.typeId) encode(this.btf, this.typeId, parseText(text), out);
      else if (/^-?\d+$/.test(text.trim()) && [1, 2, 4, 8].includes(this.size)) {
        const n = BigInt(text.trim());
        for (let i = 0; i < this.size; i++) out[i] = Number(((n < 0n ? (1n << BigInt(this.size * 8)) + n : n) >> BigInt(8 * i)) & 0xffn);
      } else out.set(parseHex(text, this.size, `${what} of ${this.size} bytes`));
    } catch (e) {
      if (e instanceof ShapeError) throw new UsageError(`bad ${what} "${text}": ${e.message}; ${what} is ${this.shape}`);
      throw e;
    }
    return out;
  }
}

export interface Entry {
  key: Value;
  value?: Value;
  /** Per-CPU maps: one value per possible CPU, and their sum. */
  values?: { cpu: number; value: Value }[];
  sum?: Value;
}

export class MapCodec {
  readonly key: Side;
  readonly value: Side;
  readonly cpus: number;
  readonly stride: number;
  constructor(readonly map: BpfMap) {
    const i = map.info;
    let btf: Btf | null = null;
    if (i.btfId) {
      try {
        btf = new Btf(btfBlob(i.btfId));
      } catch {
        btf = null; // unreadable BTF: fall back to hex
      }
    }
    this.key = new Side(btf, i.btfKeyTypeId, i.keySize);
    this.value = new Side(btf, i.btfValueTypeId, i.valueSize);
    this.cpus = map.perCpu ? possibleCpus() : 1;
    this.stride = map.perCpu ? Math.ceil(i.valueSize / 8) * 8 : i.valueSize;
  }
  /** One entry from a key and the value bytes a lookup returned. */
  entry(k: Buffer, kOff: number, v: Buffer, vOff: number): Entry {
    const key = this.key.decode(k, kOff);
    if (!this.map.perCpu) return { key, value: this.value.decode(v, vOff) };
    const values = Array.from({ length: this.cpus }, (_, cpu) => ({ cpu, value: this.value.decode(v, vOff + cpu * this.stride) }));
    return { key, values, sum: sum(values.map((x) => x.value)) };
  }
  /** Key bytes, refusing array indexes past the end (the kernel's E2BIG says less). */
  keyBytes(text: string): Buffer {
    const k = this.key.encode(text, "key");
    const t = this.map.info.type;
    if ((t === 2 || t === 6) && k.readUInt32LE(0) >= this.map.info.maxEntries) {
      throw new UsageError(`bad key "${text}": map ${this.map.info.name} is an array of ${this.map.info.maxEntries}, key must be 0..${this.map.info.maxEntries - 1}`);
    }
    return k;
  }
  /** Value bytes for an update: per-CPU maps get the same value on every CPU. */
  valueBytes(text: string): Buffer {
    const one = this.value.encode(text, "value");
    if (!this.map.perCpu) return one;
    const all = Buffer.alloc(this.stride * this.cpus);
    for (let c = 0; c < this.cpus; c++) all.set(one, c * this.stride);
    return all;
  }
}

export function entryText(e: Entry): string {
  if (!e.values) return `key: ${show(e.key)}  value: ${show(e.value!)}`;
  return [`key: ${show(e.key)}`, ...e.values.map((v) => `  cpu${v.cpu}: ${show(v.value)}`), `  sum: ${show(e.sum!)}`].join("\n");
}

export function entryJson(e: Entry): unknown {
  return e.values ? { key: jsonSafe(e.key), values: e.values.map((v) => ({ cpu: v.cpu, value: jsonSafe(v.value) })), sum: jsonSafe(e.sum!) } : { key: jsonSafe(e.key), value: jsonSafe(e.value!) };
}
