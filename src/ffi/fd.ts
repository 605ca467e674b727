// fd.ts — file descriptors: BPF objects by id, by pin path, info, close; direct I/O on a file.
import { bpf, cstr, libc } from "./native.ts";
import { check } from "./error.ts";
import { alloc, Struct, type StructName } from "./layout.ts";
import { sysFdById, sysObjGet, sysObjInfo } from "./sys.ts";

export function closeFd(fd: number): void {
  if (fd >= 0) libc.symbols.close(fd);
}

const SYS_fcntl = 72, F_GETFL = 3, F_SETFL = 4;
export const O_DIRECT = 0x4000;

/** Switch O_DIRECT on or off for an open file; false if the file system refuses it. */
export function setDirectIo(fd: number, on: boolean): boolean {
  const flags = Number(libc.symbols.syscall(SYS_fcntl, fd, F_GETFL, 0, 0, 0, 0));
  if (flags < 0) return false;
  return Number(libc.symbols.syscall(SYS_fcntl, fd, F_SETFL, on ? flags | O_DIRECT : flags & ~O_DIRECT, 0, 0, 0)) === 0;
}

/** Open a pinned object (program, map or link) from bpffs. */
export function objGet(path: string): number {
  return check(`open pinned object ${path}`, sysObjGet(cstr(path)));
}

export function objPin(fd: number, path: string): void {
  check(`pin to ${path}`, bpf().bpf_obj_pin(fd, cstr(path)));
}

/** BPF_OBJ_GET_INFO_BY_FD into the named struct; the kernel fills what it knows. */
export function objInfo<N extends StructName>(fd: number, name: N, init: Record<string, number | bigint> = {}): Struct<N> {
  const info = new Struct(name, init);
  const len = new Uint32Array([info.buf.length]); // read by the call, not kept
  check(`get ${name.replace(/^bpf_/, "")} of fd ${fd}`, sysObjInfo(fd, info.buf, len));
  return info;
}

type Kind = "prog" | "map" | "link" | "btf";

/** Every id of a kind of object, ascending (bpftool's `prog show`, `map show`, …). */
export function allIds(kind: Kind): number[] {
  const next = { prog: bpf().bpf_prog_get_next_id, map: bpf().bpf_map_get_next_id, link: bpf().bpf_link_get_next_id, btf: null }[kind];
  if (!next) throw new Error(`cannot list ${kind} ids`);
  const out: number[] = [];
  const id = alloc(4);
  let cur = 0;
  while (next(cur, id) === 0) {
    cur = id.readUInt32LE(0);
    out.push(cur);
  }
  return out;
}

export function fdById(kind: Kind, id: number): number {
  return check(`open ${kind} id ${id}`, kind === "btf" ? bpf().bpf_btf_get_fd_by_id(id) : sysFdById(kind, id));
}

/** Run fn with an fd, closing it afterwards whatever happens. */
export function withFd<T>(fd: number, fn: (fd: number) => T): T {
  try {
    return fn(fd);
  } finally {
    closeFd(fd);
  }
}
