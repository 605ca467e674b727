// map.ts — BPF maps from user space: info, lookup/update/delete, iteration, batch operations.
import { readText } from "./files.ts";
import { sysMapLookup } from "./sys.ts";
import { bpf } from "./native.ts";
import { BpfError, check, takeLog } from "./error.ts";
import { alloc, Struct } from "./layout.ts";
import { closeFd, fdById, objGet, objInfo } from "./fd.ts";

export const MAP_TYPES = [
  "unspec", "hash", "array", "prog_array", "perf_event_array", "percpu_hash", "percpu_array", "stack_trace",
  "cgroup_array", "lru_hash", "lru_percpu_hash", "lpm_trie", "array_of_maps", "hash_of_maps", "devmap", "sockmap",
  "cpumap", "xskmap", "sockhash", "cgroup_storage", "reuseport_sockarray", "percpu_cgroup_storage", "queue", "stack",
  "sk_storage", "devmap_hash", "struct_ops", "ringbuf", "inode_storage", "task_storage", "bloom_filter",
  "user_ringbuf", "cgrp_storage", "arena",
] as const;

export const BPF_ANY = 0, BPF_NOEXIST = 1, BPF_EXIST = 2;
const ENOENT = 2;

export interface MapInfo {
  id: number;
  type: number;
  typeName: string;
  name: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
}

let ncpus = 0;
export function possibleCpus(): number {
  return (ncpus ||= check("count possible CPUs", bpf().libbpf_num_possible_cpus()));
}

export function isPerCpu(type: number): boolean {
  return [5, 6, 10, 21].includes(type);
}

/** An open map fd with typed operations. Values of per-CPU maps are `valueSize` × CPUs (8-aligned). */
export class BpfMap {
  readonly info: MapInfo;
  constructor(readonly fd: number) {
    const i = objInfo(fd, "bpf_map_info");
    const type = i.get("type");
    this.info = {
      id: i.get("id"), type, typeName: MAP_TYPES[type] ?? `type ${type}`, name: i.str("name", 16),
      keySize: i.get("key_size"), valueSize: i.get("value_size"), maxEntries: i.get("max_entries"), flags: i.get("map_flags"),
      btfId: i.get("btf_id"), btfKeyTypeId: i.get("btf_key_type_id"), btfValueTypeId: i.get("btf_value_type_id"),
    };
  }
  /** A new map, not pinned, owned by this fd (the kernel frees it when nothing holds it). */
  static create(type: (typeof MAP_TYPES)[number], name: string, keySize: number, valueSize: number, maxEntries: number, flags = 0): BpfMap {
    const opts = new Struct("bpf_map_create_opts", { map_flags: flags });
    const fd = check(`create map ${name}`, bpf().bpf_map_create(MAP_TYPES.indexOf(type), Buffer.from(name + "\0"), keySize, valueSize, maxEntries, opts.buf));
    return new BpfMap(fd);
  }
  static byId(id: number): BpfMap {
    return new BpfMap(fdById("map", id));
  }
  static pinned(path: string): BpfMap {
    return new BpfMap(objGet(path));
  }
  /** Open a pinned map for the length of `fn`, closed after it whatever happens. */
  static withPinned<T>(path: string, fn: (m: BpfMap) => T): T {
    const m = BpfMap.pinned(path);
    try {
      return fn(m);
    } finally {
      m.close();
    }
  }
  get perCpu(): boolean {
    return isPerCpu(this.info.type);
  }
  /** Bytes one lookup returns: per-CPU maps return one 8-byte-aligned slot per possible CPU. */
  get valueBytes(): number {
    return this.perCpu ? Math.ceil(this.info.valueSize / 8) * 8 * possibleCpus() : this.info.valueSize;
  }
  private keyBuf(key: Uint8Array): Buffer {
    if (key.length !== this.info.keySize) throw new Error(`key is ${key.length} bytes, map ${this.info.name} wants ${this.info.keySize}`);
    const b = alloc(key.length);
    b.set(key);
    return b;
  }
  /** The value, or null when the key is absent. */
  lookup(key: Uint8Array): Buffer | null {
    const v = alloc(this.valueBytes);
    const r = sysMapLookup(this.fd, this.keyBuf(key), v);
    if (r === -ENOENT) return null;
    check(`lookup in map ${this.info.name}`, r);
    return v.subarray(0, this.valueBytes);
  }
  update(key: Uint8Array, value: Uint8Array, flags = BPF_ANY): void {
    if (value.length !== this.valueBytes) throw new Error(`value is ${value.length} bytes, map ${this.info.name} wants ${this.valueBytes}`);
    const v = alloc(value.length);
    v.set(value);
    check(`update map ${this.info.name}`, bpf().bpf_map_update_elem(this.fd, this.keyBuf(key), v, BigInt(flags)));
  }
  /** Returns false when the key was not there. */
  delete(key: Uint8Array): boolean {
    const r = bpf().bpf_map_delete_elem(this.fd, this.keyBuf(key));
    if (r === -ENOENT) return false;
    check(`delete from map ${this.info.name}`, r);
    return true;
  }
  /** Key after `key` (or the first key for null); null at the end. */
  nextKey(key: Uint8Array | null): Buffer | null {
    const next = alloc(this.info.keySize);
    const r = bpf().bpf_map_get_next_key(this.fd, key ? this.keyBuf(key) : null, next);
    if (r === -ENOENT) return null;
    check(`iterate map ${this.info.name}`, r);
    return next.subarray(0, this.info.keySize);
  }
  *keys(): Generator<Buffer> {
    for (let k = this.nextKey(null); k; k = this.nextKey(k)) yield Buffer.from(k);
  }
  /**
   * Batch lookup: calls `each(keys, values, count)` per chunk of up to `chunk` entries.
   * Returns false (having called nothing) when the kernel has no batch ops for this map type.
   */
  lookupBatch(chunk: number, each: (keys: Buffer, values: Buffer, count: number) => void): boolean {
    const ks = this.info.keySize, vs = this.valueBytes;
    const keys = alloc(ks * chunk), values = alloc(vs * chunk);
    const inBatch = alloc(Math.max(ks, 8)), outBatch = alloc(Math.max(ks, 8)), count = alloc(4);
    const opts = new Struct("bpf_map_batch_opts");
    let first = true;
    for (;;) {
      count.writeUInt32LE(chunk);
      const r = bpf().bpf_map_lookup_batch(this.fd, first ? null : inBatch, outBatch, keys, values, count, opts.buf);
      const n = count.readUInt32LE(0);
      if (r < 0 && r !== -ENOENT) {
        if (first && (r === -22 || r === -95 || r === -524)) {
          takeLog();
          return false; // EINVAL/EOPNOTSUPP/ENOTSUPP: no batch support for this type
        }
        throw new BpfError(`batch lookup in map ${this.info.name}`, -r, takeLog());
      }
      if (n > 0) each(keys.subarray(0, n * ks), values.subarray(0, n * vs), n);
      if (r === -ENOENT) return true; // end of map
      inBatch.set(outBatch);
      first = false;
    }
  }
  /** Values of array-map keys first … first+count-1, in one batch call (fewer if the map ends). */
  lookupRange(first: number, count: number): Buffer {
    const vs = this.valueBytes;
    if (count <= 0) return Buffer.alloc(0);
    const keys = alloc(4 * count), values = alloc(vs * count), inBatch = alloc(8), outBatch = alloc(8), n = alloc(4);
    if (first > 0) inBatch.writeUInt32LE(first - 1); // the batch starts at the key after in_batch
    n.writeUInt32LE(count);
    const r = bpf().bpf_map_lookup_batch(this.fd, first > 0 ? inBatch : null, outBatch, keys, values, n, new Struct("bpf_map_batch_opts").buf);
    if (r < 0 && r !== -ENOENT) throw new BpfError(`batch lookup in map ${this.info.name}`, -r, takeLog());
    return values.subarray(0, n.readUInt32LE(0) * vs);
  }
  /** Batch update of `count` packed keys and values; returns how many were written. */
  updateBatch(keys: Uint8Array, values: Uint8Array, count: number, flags = BPF_ANY): number {
    const n = alloc(4);
    n.writeUInt32LE(count);
    const k = alloc(keys.length), v = alloc(values.length);
    k.set(keys);
    v.set(values);
    const opts = new Struct("bpf_map_batch_opts", { elem_flags: flags });
    check(`batch update of map ${this.info.name}`, bpf().bpf_map_update_batch(this.fd, k, v, n, opts.buf));
    return n.readUInt32LE(0);
  }
  deleteBatch(keys: Uint8Array, count: number): number {
    const n = alloc(4);
    n.writeUInt32LE(count);
    const k = alloc(keys.length);
    k.set(keys);
    check(`batch delete from map ${this.info.name}`, bpf().bpf_map_delete_batch(this.fd, k, n, new Struct("bpf_map_batch_opts").buf));
    return n.readUInt32LE(0);
  }
  /** Kernel memory the map takes, as the kernel accounts it (fdinfo `memlock`: its real use since
   *  6.4, elements of non-preallocated hashes and trie nodes included). */
  memlock(): number {
    const m = readText(`/proc/self/fdinfo/${this.fd}`).match(/^memlock:\s*(\d+)/m);
    return m ? Number(m[1]) : 0;
  }
  close(): void {
    closeFd(this.fd);
  }
}
