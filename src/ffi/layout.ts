// layout.ts — the C structs xdptool hands to libbpf and the kernel, as byte offsets.
//
// Each layout is checked against the real headers (offsetof/sizeof compiled by the C compiler)
// in test/layout.test.ts; a libbpf upgrade that moves a field fails that test, not a user.
import { ptr } from "bun:ffi";

type Kind = "u8" | "u16" | "u32" | "i32" | "u64" | "ptr";
export interface Layout {
  size: number;
  fields: Record<string, [offset: number, kind: Kind]>;
}

const L = <T extends Record<string, Layout>>(t: T) => t;

export const layouts = L({
  // libbpf.h / bpf.h option structs: `sz` must hold the struct's size or libbpf says EINVAL.
  bpf_object_open_opts: { size: 80, fields: { sz: [0, "u64"], object_name: [8, "ptr"], kernel_log_level: [72, "u32"] } },
  bpf_link_create_opts: { size: 64, fields: { sz: [0, "u64"], flags: [8, "u32"] } },
  bpf_link_update_opts: { size: 16, fields: { sz: [0, "u64"], flags: [8, "u32"], old_prog_fd: [12, "u32"] } },
  bpf_xdp_attach_opts: { size: 16, fields: { sz: [0, "u64"], old_prog_fd: [8, "i32"] } },
  bpf_xdp_query_opts: {
    size: 32,
    fields: { sz: [0, "u64"], prog_id: [8, "u32"], drv_prog_id: [12, "u32"], hw_prog_id: [16, "u32"], skb_prog_id: [20, "u32"], attach_mode: [24, "u8"] },
  },
  bpf_map_create_opts: { size: 48, fields: { sz: [0, "u64"], btf_fd: [8, "u32"], btf_key_type_id: [12, "u32"], btf_value_type_id: [16, "u32"], map_flags: [28, "u32"], numa_node: [40, "u32"], map_ifindex: [44, "u32"] } },
  bpf_map_batch_opts: { size: 24, fields: { sz: [0, "u64"], elem_flags: [8, "u64"], flags: [16, "u64"] } },
  bpf_test_run_opts: {
    size: 80,
    fields: {
      sz: [0, "u64"], data_in: [8, "ptr"], data_out: [16, "ptr"], data_size_in: [24, "u32"], data_size_out: [28, "u32"],
      ctx_in: [32, "ptr"], ctx_out: [40, "ptr"], ctx_size_in: [48, "u32"], ctx_size_out: [52, "u32"], retval: [56, "u32"],
      repeat: [60, "i32"], duration: [64, "u32"], flags: [68, "u32"], cpu: [72, "u32"], batch_size: [76, "u32"],
    },
  },
  bpf_prog_load_opts: { size: 104, fields: { sz: [0, "u64"], log_level: [88, "u32"], log_size: [92, "u32"], log_buf: [96, "ptr"] } },
  // linux/bpf.h: what BPF_OBJ_GET_INFO_BY_FD fills in.
  bpf_prog_info: {
    size: 232,
    fields: {
      type: [0, "u32"], id: [4, "u32"], tag: [8, "u8"], jited_prog_len: [16, "u32"], xlated_prog_len: [20, "u32"],
      load_time: [40, "u64"], created_by_uid: [48, "u32"], nr_map_ids: [52, "u32"], map_ids: [56, "ptr"], name: [64, "u8"],
      ifindex: [80, "u32"], btf_id: [128, "u32"], nr_line_info: [148, "u32"], line_info: [152, "ptr"], jited_line_info: [160, "ptr"],
      nr_jited_line_info: [168, "u32"], line_info_rec_size: [172, "u32"], jited_line_info_rec_size: [176, "u32"], run_time_ns: [192, "u64"], run_cnt: [200, "u64"],
    },
  },
  bpf_map_info: {
    size: 88,
    fields: {
      type: [0, "u32"], id: [4, "u32"], key_size: [8, "u32"], value_size: [12, "u32"], max_entries: [16, "u32"],
      map_flags: [20, "u32"], name: [24, "u8"], ifindex: [40, "u32"], btf_id: [64, "u32"],
      btf_key_type_id: [68, "u32"], btf_value_type_id: [72, "u32"],
    },
  },
  bpf_link_info: { size: 48, fields: { type: [0, "u32"], id: [4, "u32"], prog_id: [8, "u32"], xdp_ifindex: [16, "u32"] } },
  bpf_btf_info: { size: 32, fields: { btf: [0, "ptr"], btf_size: [8, "u32"], id: [12, "u32"], name: [16, "ptr"], name_len: [24, "u32"], kernel_btf: [28, "u32"] } },
  xdp_md: { size: 24, fields: { data: [0, "u32"], data_end: [4, "u32"], data_meta: [8, "u32"], ingress_ifindex: [12, "u32"], rx_queue_index: [16, "u32"], egress_ifindex: [20, "u32"] } },
});
export type StructName = keyof typeof layouts;

/**
 * Memory whose address can be stored inside a struct. A separately allocated ArrayBuffer keeps its
 * backing store where it is; a small inline typed array may be moved by the garbage collector,
 * after which a pointer taken earlier points at garbage (bun:ffi trap 1).
 */
export function alloc(n: number): Buffer {
  // Buffer.alloc, then its ArrayBuffer asked for at once: that moves the bytes out of line now,
  // before any pointer is taken (Buffer.from(new ArrayBuffer(n)) does the same, but is JavaScript
  // the runtime compiles at its first call: ~0.2 ms of a start).
  const b = Buffer.alloc(Math.max(n, 8));
  void b.buffer;
  return b;
}

/**
 * The buffers whose addresses were handed out last. A pointer stored in a struct is a number to
 * the garbage collector: a buffer the caller never touches again after taking its address (the
 * input of a test run) could be freed before the call that reads it, and the kernel would read
 * freed memory (seen: 5 frames in 100k arriving with a heap pointer over their first 8 bytes).
 * Each buffer stays referenced here for the next KEEP addresses, far more than any one call takes.
 */
const KEEP = 64;
const inUse: (Uint8Array | undefined)[] = new Array(KEEP);
let next = 0;

/** Address of a buffer, for a pointer field. Take it right before the call that uses it. */
export function addr(b: Uint8Array): bigint {
  inUse[next] = b;
  next = (next + 1) % KEEP;
  return BigInt(ptr(b));
}

/** A C struct in memory with named field access; `sz` is preset to the struct size for opts. */
export class Struct<N extends StructName> {
  readonly buf: Buffer;
  /** Fields are read and written through a DataView: Buffer's read/write methods are JavaScript
   *  compiled at their first call (start-up paths avoid them); DataView's are the engine's own. */
  private readonly view: DataView;
  constructor(readonly name: N, init: Partial<Record<string, number | bigint>> = {}) {
    const l = layouts[name];
    this.buf = alloc(l.size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    if ("sz" in l.fields) this.set("sz", l.size);
    for (const [k, v] of Object.entries(init)) if (v !== undefined) this.set(k, v);
  }
  private field(k: string): [number, Kind] {
    const f = (layouts[this.name].fields as Layout["fields"])[k];
    if (!f) throw new Error(`${this.name} has no field ${k}`);
    return f;
  }
  set(k: string, v: number | bigint): this {
    const [off, kind] = this.field(k);
    const d = this.view;
    if (kind === "u8") d.setUint8(off, Number(v));
    else if (kind === "u16") d.setUint16(off, Number(v), true);
    else if (kind === "u32") d.setUint32(off, Number(v) >>> 0, true);
    else if (kind === "i32") d.setInt32(off, Number(v), true);
    else d.setBigUint64(off, BigInt(v), true);
    return this;
  }
  get(k: string): number {
    const [off, kind] = this.field(k);
    const d = this.view;
    if (kind === "u8") return d.getUint8(off);
    if (kind === "u16") return d.getUint16(off, true);
    if (kind === "u32") return d.getUint32(off, true);
    if (kind === "i32") return d.getInt32(off, true);
    return Number(d.getBigUint64(off, true));
  }
  bytes(k: string, n: number): Buffer {
    const [off] = this.field(k);
    return this.buf.subarray(off, off + n);
  }
  /** A NUL-terminated char[] field as a string. */
  str(k: string, n: number): string {
    const b = this.bytes(k, n);
    const end = b.indexOf(0);
    return new TextDecoder().decode(b.subarray(0, end < 0 ? n : end));
  }
}
