// parse.ts — raw BTF (the kernel's type format, include/uapi/linux/btf.h) into plain type records.
//
// Only what is needed to show and parse map keys and values: ints, arrays, structs, unions,
// enums, typedefs and qualifiers; everything else is kept as "other" (shown as hex).

export type BtfType =
  | { kind: "void"; name: string; size: 0 }
  | { kind: "int"; name: string; size: number; signed: boolean; char: boolean; bool: boolean; bits: number; bitOffset: number }
  | { kind: "float"; name: string; size: number }
  | { kind: "ptr"; name: string; size: 8 }
  | { kind: "array"; name: string; elem: number; nelems: number }
  | { kind: "struct" | "union"; name: string; size: number; members: BtfMember[] }
  | { kind: "enum"; name: string; size: number; signed: boolean; values: { name: string; value: bigint }[] }
  | { kind: "typedef" | "qual"; name: string; type: number }
  | { kind: "datasec"; name: string; size: number; vars: { type: number; offset: number; size: number }[] }
  | { kind: "var"; name: string; type: number }
  | { kind: "other"; name: string; size: number };

export interface BtfMember {
  name: string;
  type: number;
  /** Offset in bits from the start of the struct. */
  bitOffset: number;
  /** Bitfield width in bits (0 = not a bitfield). */
  bitSize: number;
}

const BTF_MAGIC = 0xeb9f;
const K = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19 };

export class Btf {
  /** types[id]; id 0 is void. */
  readonly types: BtfType[] = [{ kind: "void", name: "void", size: 0 }];
  /** The string at this offset of the string section (line info's file names and source text). */
  readonly string: (off: number) => string;

  constructor(blob: Buffer) {
    if (blob.length < 24 || blob.readUInt16LE(0) !== BTF_MAGIC) throw new Error("not a BTF blob (bad magic)");
    const hdrLen = blob.readUInt32LE(4);
    const typeOff = hdrLen + blob.readUInt32LE(8), typeLen = blob.readUInt32LE(12);
    const strOff = hdrLen + blob.readUInt32LE(16), strLen = blob.readUInt32LE(20);
    const str = (off: number) => {
      if (off >= strLen) return "";
      const s = strOff + off;
      return blob.toString("latin1", s, blob.indexOf(0, s));
    };
    this.string = str;
    let p = typeOff;
    const end = typeOff + typeLen;
    const u32 = () => ((p += 4), blob.readUInt32LE(p - 4));
    const i32 = () => ((p += 4), blob.readInt32LE(p - 4));
    while (p < end) {
      const name = str(u32()), info = u32(), sizeOrType = u32();
      const vlen = info & 0xffff, kind = (info >>> 24) & 0x1f, kflag = info >>> 31;
      switch (kind) {
        case K.INT: {
          const enc = u32();
          this.types.push({ kind: "int", name, size: sizeOrType, signed: !!(enc & (1 << 24)), char: !!(enc & (2 << 24)), bool: !!(enc & (4 << 24)), bits: enc & 0xff, bitOffset: (enc >>> 16) & 0xff });
          break;
        }
        case K.PTR: this.types.push({ kind: "ptr", name, size: 8 }); break;
        case K.ARRAY: {
          const elem = u32();
          u32(); // index type
          this.types.push({ kind: "array", name, elem, nelems: u32() });
          break;
        }
        case K.STRUCT: case K.UNION: {
          const members: BtfMember[] = [];
          for (let i = 0; i < vlen; i++) {
            const mname = str(u32()), type = u32(), off = u32();
            members.push({ name: mname, type, bitOffset: kflag ? off & 0xffffff : off, bitSize: kflag ? off >>> 24 : 0 });
          }
          this.types.push({ kind: kind === K.STRUCT ? "struct" : "union", name, size: sizeOrType, members });
          break;
        }
        case K.ENUM: case K.ENUM64: {
          const values: { name: string; value: bigint }[] = [];
          for (let i = 0; i < vlen; i++) {
            const vname = str(u32());
            if (kind === K.ENUM) values.push({ name: vname, value: kflag ? BigInt(i32()) : BigInt(u32()) });
            else { const lo = u32(), hi = u32(); values.push({ name: vname, value: (BigInt(hi) << 32n) | BigInt(lo) }); }
          }
          this.types.push({ kind: "enum", name, size: sizeOrType, signed: !!kflag, values });
          break;
        }
        case K.TYPEDEF: this.types.push({ kind: "typedef", name, type: sizeOrType }); break;
        case K.VOLATILE: case K.CONST: case K.RESTRICT: case K.TYPE_TAG: this.types.push({ kind: "qual", name, type: sizeOrType }); break;
        case K.FUNC_PROTO: p += 8 * vlen; this.types.push({ kind: "other", name, size: 0 }); break;
        case K.VAR: u32(); this.types.push({ kind: "var", name, type: sizeOrType }); break;
        case K.DATASEC: {
          const vars = [];
          for (let i = 0; i < vlen; i++) vars.push({ type: u32(), offset: u32(), size: u32() });
          this.types.push({ kind: "datasec", name, size: sizeOrType, vars });
          break;
        }
        case K.FLOAT: this.types.push({ kind: "float", name, size: sizeOrType }); break;
        case K.DECL_TAG: u32(); this.types.push({ kind: "other", name, size: 0 }); break;
        case K.FWD: case K.FUNC: this.types.push({ kind: "other", name, size: 0 }); break;
        default: throw new Error(`BTF kind ${kind} unknown (type ${this.types.length})`);
      }
    }
  }

  /** Follow typedefs and qualifiers to the type that has a layout. */
  resolve(id: number): BtfType {
    let t = this.types[id];
    for (let n = 0; t && (t.kind === "typedef" || t.kind === "qual" || t.kind === "var") && n < 32; n++) t = this.types[t.type];
    if (!t) throw new Error(`BTF type ${id} does not exist`);
    return t;
  }

  sizeOf(id: number): number {
    const t = this.resolve(id);
    if (t.kind === "array") return this.sizeOf(t.elem) * t.nelems;
    return "size" in t ? t.size : 0;
  }

  /** C spelling of a type: "__u32", "struct xt_counter", "__u8[4]". */
  nameOf(id: number): string {
    const t = this.types[id];
    if (!t) return "?";
    if (t.kind === "array") return `${this.nameOf(t.elem)}[${t.nelems}]`;
    if (t.kind === "qual") return this.nameOf(t.type);
    if (t.kind === "struct" || t.kind === "union" || t.kind === "enum") return `${t.kind} ${t.name || "{…}"}`;
    return t.name || t.kind;
  }

  /** C declaration of a type, expanded one level: "struct { __u32 prefixlen; __u8 addr[4]; }". */
  describe(id: number): string {
    const t = this.resolve(id);
    if (t.kind === "struct" || t.kind === "union") {
      const fields = t.members.map((m) => {
        const mt = this.types[m.type];
        const arr = mt?.kind === "array" ? `[${mt.nelems}]` : "";
        return `${arr ? this.nameOf((mt as { elem: number }).elem) : this.nameOf(m.type)} ${m.name}${arr}${m.bitSize ? `:${m.bitSize}` : ""};`;
      });
      return `${t.kind} { ${fields.join(" ")} }`;
    }
    return this.nameOf(id);
  }
}
