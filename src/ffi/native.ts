// native.ts — which native code is opened: the embedded shared object and the C library, nothing
// of the host's besides (pcap.ts binds libpcap's functions from the same embedded file).
//
// libbpf (with libelf and zlib, position-independent, plus libbpf/shim.c) and libpcap's filter
// compiler are one shared object embedded in the xdptool binary. Root's runs extract it once to
// /run/xdptool/ (named by the hash Bun gives the embedded file), and every later run dlopens that
// file — copying 0.7 MB at every start cost 2–4 ms. It is used only when it and its directory are
// root's and writable by no one else, and written under a name of its own (O_EXCL) then renamed,
// so a run never sees it half written. Otherwise (not root, read-only or noexec /run) the bytes go
// to an anonymous memfd, dlopened through /proc/self/fd/N. Besides it, only the C library is opened.
import { dlopen, FFIType as T, read, type ConvertFns, type FFIFunction } from "bun:ffi";
import soPath from "../../libbpf/out/libxdptool-bpf.so" with { type: "file" };
import { errnoName } from "./errno.ts";
import { addr } from "./layout.ts";
import { statOf } from "./files.ts";

/** memfd_create(2) as a system call: glibc only wraps it from 2.27, and every function bound here
 *  by name must exist in the oldest glibc the Bun runtime starts on (2.17). */
const SYS_memfd_create = 319, MFD_CLOEXEC = 1;

const libcSymbols = {
  write: { args: [T.i32, T.ptr, T.usize], returns: T.isize },
  open: { args: [T.cstring, T.i32], returns: T.i32 },
  read: { args: [T.i32, T.ptr, T.usize], returns: T.isize },
  opendir: { args: [T.cstring], returns: T.ptr },
  readdir: { args: [T.ptr], returns: T.ptr },
  closedir: { args: [T.ptr], returns: T.i32 },
  close: { args: [T.i32], returns: T.i32 },
  setns: { args: [T.i32, T.i32], returns: T.i32 },
  mount: { args: [T.cstring, T.cstring, T.cstring, T.u64, T.ptr], returns: T.i32 },
  statfs: { args: [T.cstring, T.ptr], returns: T.i32 },
  if_nametoindex: { args: [T.cstring], returns: T.u32 },
  if_indextoname: { args: [T.u32, T.ptr], returns: T.ptr },
  geteuid: { args: [], returns: T.u32 },
  isatty: { args: [T.i32], returns: T.i32 },
  __errno_location: { args: [], returns: T.ptr },
  syscall: { args: [T.i64, T.i64, T.i64, T.i64, T.i64, T.i64], returns: T.i64 },
  mmap: { args: [T.ptr, T.usize, T.i32, T.i32, T.i32, T.i64], returns: T.ptr },
  munmap: { args: [T.ptr, T.usize], returns: T.i32 },
  madvise: { args: [T.ptr, T.usize, T.i32], returns: T.i32 },
  ioctl: { args: [T.i32, T.u64, T.u64], returns: T.i32 },
  poll: { args: [T.ptr, T.u64, T.i32], returns: T.i32 },
  clock_gettime: { args: [T.i32, T.ptr], returns: T.i32 },
  flock: { args: [T.i32, T.i32], returns: T.i32 },
  socket: { args: [T.i32, T.i32, T.i32], returns: T.i32 },
  bind: { args: [T.i32, T.ptr, T.u32], returns: T.i32 },
  send: { args: [T.i32, T.ptr, T.usize, T.i32], returns: T.isize },
  recv: { args: [T.i32, T.ptr, T.usize, T.i32], returns: T.isize },
} as const;

const bpfSymbols = {
  // shim.c
  xt_log_capture: { args: [T.i32], returns: T.void },
  xt_log_take: { args: [T.ptr, T.usize], returns: T.usize },
  // t4bulk.c: a whole list of IPv4 prefixes into an empty blacklist table
  xt_t4_bulk: { args: [T.ptr, T.u32, T.ptr, T.ptr, T.ptr, T.u32, T.ptr, T.i32, T.ptr, T.ptr], returns: T.i64 },
  // sampdrain.c: the sampler's ring buffer into pcap/pcapng records
  xt_samp_drain: { args: [T.ptr, T.ptr, T.ptr, T.ptr, T.ptr], returns: T.i64 },
  // versions and errors
  libbpf_version_string: { args: [], returns: T.cstring },
  libbpf_strerror: { args: [T.i32, T.ptr, T.usize], returns: T.i32 },
  libbpf_get_error: { args: [T.ptr], returns: T.i64 },
  // bpf_object lifecycle (libbpf.h)
  bpf_object__open_mem: { args: [T.ptr, T.usize, T.ptr], returns: T.ptr },
  bpf_object__load: { args: [T.ptr], returns: T.i32 },
  bpf_object__close: { args: [T.ptr], returns: T.void },
  bpf_object__name: { args: [T.ptr], returns: T.cstring },
  bpf_object__next_program: { args: [T.ptr, T.ptr], returns: T.ptr },
  bpf_object__next_map: { args: [T.ptr, T.ptr], returns: T.ptr },
  bpf_program__name: { args: [T.ptr], returns: T.cstring },
  bpf_program__section_name: { args: [T.ptr], returns: T.cstring },
  bpf_program__type: { args: [T.ptr], returns: T.i32 },
  bpf_program__fd: { args: [T.ptr], returns: T.i32 },
  bpf_program__set_autoload: { args: [T.ptr, T.bool], returns: T.i32 },
  bpf_map__name: { args: [T.ptr], returns: T.cstring },
  bpf_map__fd: { args: [T.ptr], returns: T.i32 },
  bpf_map__type: { args: [T.ptr], returns: T.i32 },
  bpf_map__reuse_fd: { args: [T.ptr, T.i32], returns: T.i32 },
  bpf_map__set_inner_map_fd: { args: [T.ptr, T.i32], returns: T.i32 },
  bpf_map__key_size: { args: [T.ptr], returns: T.u32 },
  bpf_map__value_size: { args: [T.ptr], returns: T.u32 },
  bpf_map__max_entries: { args: [T.ptr], returns: T.u32 },
  bpf_map__set_max_entries: { args: [T.ptr, T.u32], returns: T.i32 },
  bpf_map__initial_value: { args: [T.ptr, T.ptr], returns: T.ptr },
  bpf_map__set_initial_value: { args: [T.ptr, T.ptr, T.usize], returns: T.i32 },
  // low-level syscall wrappers (bpf.h)
  bpf_prog_load: { args: [T.u32, T.cstring, T.cstring, T.ptr, T.usize, T.ptr], returns: T.i32 },
  bpf_link_create: { args: [T.i32, T.i32, T.u32, T.ptr], returns: T.i32 },
  bpf_link_update: { args: [T.i32, T.i32, T.ptr], returns: T.i32 },
  bpf_link_detach: { args: [T.i32], returns: T.i32 },
  bpf_obj_pin: { args: [T.i32, T.cstring], returns: T.i32 },
  bpf_obj_get: { args: [T.cstring], returns: T.i32 },
  bpf_obj_get_info_by_fd: { args: [T.i32, T.ptr, T.ptr], returns: T.i32 },
  bpf_prog_get_fd_by_id: { args: [T.u32], returns: T.i32 },
  bpf_map_get_fd_by_id: { args: [T.u32], returns: T.i32 },
  bpf_link_get_fd_by_id: { args: [T.u32], returns: T.i32 },
  bpf_btf_get_fd_by_id: { args: [T.u32], returns: T.i32 },
  bpf_prog_get_next_id: { args: [T.u32, T.ptr], returns: T.i32 },
  bpf_map_get_next_id: { args: [T.u32, T.ptr], returns: T.i32 },
  bpf_link_get_next_id: { args: [T.u32, T.ptr], returns: T.i32 },
  bpf_xdp_attach: { args: [T.i32, T.i32, T.u32, T.ptr], returns: T.i32 },
  bpf_xdp_detach: { args: [T.i32, T.u32, T.ptr], returns: T.i32 },
  bpf_xdp_query: { args: [T.i32, T.i32, T.ptr], returns: T.i32 },
  bpf_map_create: { args: [T.u32, T.cstring, T.u32, T.u32, T.u32, T.ptr], returns: T.i32 },
  bpf_map_lookup_elem: { args: [T.i32, T.ptr, T.ptr], returns: T.i32 },
  bpf_map_lookup_elem_flags: { args: [T.i32, T.ptr, T.ptr, T.u64], returns: T.i32 },
  bpf_map_update_elem: { args: [T.i32, T.ptr, T.ptr, T.u64], returns: T.i32 },
  bpf_map_delete_elem: { args: [T.i32, T.ptr], returns: T.i32 },
  bpf_map_get_next_key: { args: [T.i32, T.ptr, T.ptr], returns: T.i32 },
  bpf_map_lookup_batch: { args: [T.i32, T.ptr, T.ptr, T.ptr, T.ptr, T.ptr, T.ptr], returns: T.i32 },
  bpf_map_update_batch: { args: [T.i32, T.ptr, T.ptr, T.ptr, T.ptr], returns: T.i32 },
  bpf_map_delete_batch: { args: [T.i32, T.ptr, T.ptr, T.ptr], returns: T.i32 },
  bpf_prog_test_run_opts: { args: [T.i32, T.ptr], returns: T.i32 },
  libbpf_num_possible_cpus: { args: [], returns: T.i32 },
  libbpf_probe_bpf_helper: { args: [T.u32, T.u32, T.ptr], returns: T.i32 },
} as const;

/** Where root's runs keep the extracted shared object (with xdptool's lock files); tests point
 *  XDPTOOL_RUN_DIR elsewhere. */
const RUN_DIR = process.env.XDPTOOL_RUN_DIR || "/run/xdptool";

let embeddedPath: string | undefined;
/** A path dlopen can open for the embedded shared object. Under `bun build --compile` soPath is
 * inside the binary's virtual filesystem ($bunfs), which dlopen cannot see: the extracted copy in
 * RUN_DIR, else a memfd; every later dlopen (libbpf's symbols, libpcap's) opens that same file.
 * Running from source it is a real file. */
export function nativeLibPath(): string {
  if (embeddedPath) return embeddedPath;
  void libc.symbols.__errno_location; // before libbpf's or libpcap's first call (see libc below)
  if (!soPath.includes("$bunfs")) return (embeddedPath = soPath);
  return (embeddedPath = extracted() ?? memfdCopy());
}

/** Root's, and writable by no one else (a symbolic link is neither file nor directory here). */
function rootOnly(path: string, kind: "dir" | "file", size?: number): boolean {
  // files.ts, not node:fs: a run that finds the copy in place loads no node:fs (1.2–2 ms).
  const st = statOf(path, false);
  return !!st && st.uid === 0 && (st.mode & 0o022) === 0 && (kind === "dir" ? st.isDirectory : st.isFile && st.size === size);
}

/** The shared object in RUN_DIR, written there first if need be (as root), or null. */
function extracted(): string | null {
  const name = soPath.slice(soPath.lastIndexOf("/") + 1); // libxdptool-bpf-HASH.so: Bun names it by its content
  const path = `${RUN_DIR}/${name}`, size = Bun.file(soPath).size;
  // The directory first: one that only root can change keeps the file in it root's.
  if (rootOnly(RUN_DIR, "dir") && rootOnly(path, "file", size)) return path;
  if (libc.symbols.geteuid() !== 0) return null;
  const fs = require("node:fs");
  const tmp = `${path}.${process.pid}`;
  try {
    fs.mkdirSync(RUN_DIR, { recursive: true, mode: 0o700 });
    if (!rootOnly(RUN_DIR, "dir")) return null;
    const fd = fs.openSync(tmp, "wx", 0o444); // O_EXCL: never through a file or link already there
    try {
      fs.writeSync(fd, fs.readFileSync(soPath));
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path); // replaces a wrong one (size, owner, mode, a link) whole
    // Other builds' copies: a run that has one open keeps its mapping.
    for (const f of fs.readdirSync(RUN_DIR)) if (/^libxdptool-bpf-\w+\.so$/.test(f) && f !== name) fs.rmSync(`${RUN_DIR}/${f}`, { force: true });
    return path;
  } catch {
    fs.rmSync(tmp, { force: true });
    return null;
  }
}

/** The embedded bytes in an anonymous memfd, nothing left behind. */
function memfdCopy(): string {
  const bytes = new Uint8Array(require("node:fs").readFileSync(soPath));
  const fd = Number(libc.symbols.syscall(SYS_memfd_create, addr(Buffer.from("libxdptool-bpf\0")), MFD_CLOEXEC, 0, 0, 0, 0));
  if (fd < 0) throw new Error(`memfd_create: ${errnoName(errno())}`);
  let off = 0;
  while (off < bytes.length) {
    const n = Number(libc.symbols.write(fd, bytes.subarray(off), bytes.length - off));
    if (n <= 0) throw new Error(`writing libbpf to memfd: ${errnoName(errno())}`);
    off += n;
  }
  return `/proc/self/fd/${fd}`;
}

type Defs = Record<string, FFIFunction>;
/**
 * A library's functions, each bound through bun:ffi on its first use and a plain property after
 * that (as dlopen's own symbols are). Each bound function costs a compiled trampoline: binding
 * libbpf's ~60 and libc's ~20 at once took ~1.5 ms of every start, and a command calls a handful.
 */
function lazySymbols<D extends Defs>(path: () => string, defs: D, withFirst: (keyof D & string)[] = []): ConvertFns<D> {
  const lib = {} as ConvertFns<D>;
  // `withFirst` are bound by the same dlopen as whichever function is bound first.
  let pending = withFirst;
  for (const name of Object.keys(defs) as (keyof D & string)[]) {
    Object.defineProperty(lib, name, {
      configurable: true,
      enumerable: true,
      get: () => {
        const names = [name, ...pending.filter((n) => n !== name)];
        pending = [];
        const h = dlopen(path(), Object.fromEntries(names.map((n) => [n, defs[n]])) as D);
        handles.push(h); // kept: its functions live as long as the process
        for (const n of names) Object.defineProperty(lib, n, { value: h.symbols[n], enumerable: true });
        return h.symbols[name];
      },
    });
  }
  return lib;
}
const handles: { close(): void }[] = [];

// __errno_location is bound with the first libc function a run calls (one dlopen for both), not
// by errno() right after a failed call: binding (dlopen, a compiled trampoline) could change errno
// before it is read. nativeLibPath() binds it before any libbpf or libpcap function.
export const libc = { symbols: lazySymbols(() => "libc.so.6", libcSymbols, ["__errno_location"]) };
/** What is bound from libc by name (the tests check each exists in the runtime's oldest glibc). */
export const LIBC_FUNCTIONS = Object.keys(libcSymbols);

/** errno of the last failed libc call on this thread. Read it right after the call. */
export function errno(): number {
  return read.i32(libc.symbols.__errno_location()!, 0);
}

type BpfLib = ConvertFns<typeof bpfSymbols>;
let bpfLib: BpfLib | undefined;
/** libbpf's functions, bound as they are first used (start-up of commands that never touch BPF,
 *  or touch little of it, stays fast). */
export function bpf(): BpfLib {
  if (bpfLib) return bpfLib;
  const lib = lazySymbols(nativeLibPath, bpfSymbols);
  // The first binding opens the file: the extracted copy may not load (a noexec mount) — then the
  // memfd, as if it were not there.
  try {
    lib.xt_log_capture(process.env.XDPTOOL_DEBUG ? 1 : 0);
  } catch (e) {
    if (!nativeLibPath().startsWith(`${RUN_DIR}/`)) throw e;
    embeddedPath = memfdCopy();
    lib.xt_log_capture(process.env.XDPTOOL_DEBUG ? 1 : 0);
  }
  return (bpfLib = lib);
}

const utf8 = new TextEncoder();
/** A NUL-terminated C string for a `cstring`/`ptr` argument, in memory of its own (its address
 *  may be stored in a struct; see alloc in layout.ts). TextEncoder, not Buffer.from: that is
 *  JavaScript compiled at its first call, which start-up paths avoid. */
export function cstr(s: string): Uint8Array {
  const b = new Uint8Array(new ArrayBuffer(s.length * 3 + 1)); // room for any UTF-8 of s; the rest stays 0
  utf8.encodeInto(s, b);
  return b;
}
