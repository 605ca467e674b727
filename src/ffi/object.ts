// object.ts — a BPF ELF object (bpf_object): open from memory, load into the kernel, close.
import { basename } from "node:path";
import { read } from "bun:ffi";
import { bpf, cstr } from "./native.ts";
import { alloc, addr, Struct } from "./layout.ts";
import { check, checkPtr, clearLog } from "./error.ts";

export const BPF_PROG_TYPE_XDP = 6;

export interface ProgramHandle {
  handle: number;
  name: string;
  section: string;
  type: number;
}
export interface MapHandle {
  handle: number;
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** libbpf's internal maps (.bss/.data/.rodata of global variables). */
  internal: boolean;
}

export class BpfObject {
  private obj: number | null;
  // libelf reads the ELF image in place: keep the bytes alive as long as the object is open.
  private readonly image: Buffer;

  private constructor(image: Buffer, obj: number) {
    this.image = image;
    this.obj = obj;
  }

  /** Parse an ELF image; `name` is what libbpf calls the object in messages. */
  static open(bytes: Uint8Array, name: string): BpfObject {
    clearLog();
    const image = alloc(bytes.length);
    image.set(bytes);
    // libbpf cuts an object's name at its first dot: a path through ".build/" would name it after
    // the directory. Its file name is what messages should show.
    const nameBuf = cstr(basename(name));
    const opts = new Struct("bpf_object_open_opts");
    opts.set("object_name", addr(nameBuf));
    const obj = checkPtr(`open BPF object ${name}`, bpf().bpf_object__open_mem(image, bytes.length, opts.buf));
    nameBuf.length; // keep alive until after the call
    return new BpfObject(image, obj);
  }

  private get handle(): number {
    if (!this.obj) throw new Error("BPF object already closed");
    return this.obj;
  }

  programs(): ProgramHandle[] {
    const out: ProgramHandle[] = [];
    const lib = bpf();
    for (let p = lib.bpf_object__next_program(this.handle, null); p; p = lib.bpf_object__next_program(this.handle, p)) {
      out.push({ handle: p, name: String(lib.bpf_program__name(p)), section: String(lib.bpf_program__section_name(p)), type: lib.bpf_program__type(p) });
    }
    return out;
  }

  maps(): MapHandle[] {
    const out: MapHandle[] = [];
    const lib = bpf();
    for (let m = lib.bpf_object__next_map(this.handle, null); m; m = lib.bpf_object__next_map(this.handle, m)) {
      const name = String(lib.bpf_map__name(m));
      out.push({
        handle: m, name, type: lib.bpf_map__type(m), internal: name.includes("."),
        keySize: lib.bpf_map__key_size(m), valueSize: lib.bpf_map__value_size(m), maxEntries: lib.bpf_map__max_entries(m),
      });
    }
    return out;
  }

  /** Only `keep` is loaded; libbpf would otherwise load (and verify) every program in the file. */
  selectProgram(keep: ProgramHandle): void {
    for (const p of this.programs()) bpf().bpf_program__set_autoload(p.handle, p.handle === keep.handle);
  }

  setMaxEntries(map: MapHandle, n: number): void {
    check(`size map ${map.name}`, bpf().bpf_map__set_max_entries(map.handle, n));
    map.maxEntries = n;
  }

  /** Use an existing map (e.g. a pinned one) instead of creating a new one at load time. */
  reuseMap(map: MapHandle, fd: number): void {
    check(`reuse map ${map.name}`, bpf().bpf_map__reuse_fd(map.handle, fd));
  }

  /** The template an ARRAY_OF_MAPS / HASH_OF_MAPS is created with: every inner map put in it
   *  later must have the template's type, sizes and flags. */
  setInnerMap(map: MapHandle, fd: number): void {
    check(`set the inner map of ${map.name}`, bpf().bpf_map__set_inner_map_fd(map.handle, fd));
  }

  /** Set the initial bytes of a global-variable section (.rodata/.data/.bss) before load. */
  setInitialValue(map: MapHandle, bytes: Uint8Array): void {
    const b = alloc(bytes.length);
    b.set(bytes);
    check(`set initial value of ${map.name}`, bpf().bpf_map__set_initial_value(map.handle, b, bytes.length));
  }

  /** Current initial bytes of a global-variable section. */
  initialValue(map: MapHandle): Buffer {
    const size = alloc(8);
    const p = bpf().bpf_map__initial_value(map.handle, size);
    const n = Number(size.readBigUInt64LE(0));
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = read.u8(p!, i);
    return out;
  }

  load(): void {
    clearLog();
    check(`load BPF object ${this.name}`, bpf().bpf_object__load(this.handle));
  }

  get name(): string {
    return String(bpf().bpf_object__name(this.handle));
  }

  progFd(p: ProgramHandle): number {
    return check(`program ${p.name} fd`, bpf().bpf_program__fd(p.handle));
  }

  mapFd(m: MapHandle): number {
    return check(`map ${m.name} fd`, bpf().bpf_map__fd(m.handle));
  }

  /** Frees libbpf's copy; loaded programs and maps live on while something else holds them. */
  close(): void {
    if (this.obj) bpf().bpf_object__close(this.obj);
    this.obj = null;
    this.image.length;
  }
}
