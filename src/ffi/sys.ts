// sys.ts — system calls made straight through the C library's syscall(): the bpf(2) commands that
// only look (an object by id or by pin, its info, one map element), and capget(2). libbpf's
// functions for these are one system call each; `status` needs nothing else from libbpf, and
// opening its shared object and binding each function cost ~1.5 ms of its start. Same convention
// as libbpf: -errno on failure.
import { addr } from "./layout.ts";
import { errno, libc } from "./native.ts";

/** x86-64's system call numbers, as memfd_create's in native.ts. */
const SYS_bpf = 321, SYS_fcntl = 72, SYS_capget = 125, F_DUPFD_CLOEXEC = 1030;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;
const BPF_MAP_LOOKUP_ELEM = 1, BPF_OBJ_GET = 7, BPF_OBJ_GET_INFO_BY_FD = 15;
const GET_FD_BY_ID = { prog: 13, map: 14, link: 30 } as const;

/** union bpf_attr, zeroed, as wide as the command reads (the kernel wants any tail it knows zero). */
function attr(size: number): [Uint8Array, DataView] {
  const b = new Uint8Array(new ArrayBuffer(size));
  return [b, new DataView(b.buffer)];
}

function bpfCall(cmd: number, a: Uint8Array): number {
  const r = Number(libc.symbols.syscall(SYS_bpf, cmd, addr(a), a.length, 0, 0));
  return r < 0 ? -errno() : r;
}

/** A new fd kept off 0–2, as libbpf keeps it: with stdin closed, a map must not become fd 0. */
function goodFd(fd: number): number {
  if (fd < 0 || fd > 2) return fd;
  const dup = Number(libc.symbols.syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3, 0, 0, 0));
  const e = errno();
  libc.symbols.close(fd);
  return dup < 0 ? -e : dup;
}

/** BPF_OBJ_GET: an fd for the object pinned at `path` (a NUL-terminated string). */
export function sysObjGet(path: Uint8Array): number {
  const [a, v] = attr(20); // pathname, bpf_fd, file_flags, path_fd
  v.setBigUint64(0, addr(path), true);
  return goodFd(bpfCall(BPF_OBJ_GET, a));
}

/** BPF_*_GET_FD_BY_ID. */
export function sysFdById(kind: keyof typeof GET_FD_BY_ID, id: number): number {
  const [a, v] = attr(12); // id, next_id, open_flags
  v.setUint32(0, id, true);
  return goodFd(bpfCall(GET_FD_BY_ID[kind], a));
}

/** BPF_OBJ_GET_INFO_BY_FD into `info`; `len` holds its size, and then what the kernel filled. */
export function sysObjInfo(fd: number, info: Uint8Array, len: Uint32Array): number {
  const [a, v] = attr(16); // bpf_fd, info_len, info
  v.setUint32(0, fd, true);
  v.setUint32(4, len[0], true);
  v.setBigUint64(8, addr(info), true);
  const r = bpfCall(BPF_OBJ_GET_INFO_BY_FD, a);
  if (r === 0) len[0] = v.getUint32(4, true);
  return r;
}

/** BPF_MAP_LOOKUP_ELEM: the value of `key` into `value`; -ENOENT when absent. */
export function sysMapLookup(fd: number, key: Uint8Array, value: Uint8Array): number {
  const [a, v] = attr(32); // map_fd, key, value, flags
  v.setUint32(0, fd, true);
  v.setBigUint64(8, addr(key), true);
  v.setBigUint64(16, addr(value), true);
  return bpfCall(BPF_MAP_LOOKUP_ELEM, a);
}

/** This thread's effective capabilities, as a bit mask (bit N = capability N); 0n if unknown.
 *  What /proc/self/status says as CapEff, without opening, reading and parsing a file. */
export function effectiveCaps(): bigint {
  const hdr = new Uint32Array([LINUX_CAPABILITY_VERSION_3, 0]); // version, pid 0: this thread
  const data = new Uint32Array(6); // two of { effective, permitted, inheritable }: bits 0–31, 32–63
  if (Number(libc.symbols.syscall(SYS_capget, addr(hdr), addr(data), 0, 0, 0)) !== 0) return 0n;
  return (BigInt(data[3]) << 32n) | BigInt(data[0]);
}
