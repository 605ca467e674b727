// files.ts — the file-system questions that commands ask on their way to the kernel (is it there,
// which inode, a directory's names, a small file's text), asked through the C library. Importing
// node:fs costs 1.2–2 ms of a start (docs/B-packaging.md, "Start-up") — more than all the file
// work of `status`; what changes files (pins, locks, the extracted library) still uses node:fs,
// loaded when it runs.
// Typed arrays, DataView and TextDecoder rather than Buffer's methods: those are JavaScript the
// runtime compiles on their first call, ~0.5 ms of a start for a file read (measured).
import { CString } from "bun:ffi";
import { addr } from "./layout.ts";
import { cstr, errno, libc } from "./native.ts";
import { errnoName } from "./errno.ts";

/** newfstatat(2) as a system call: glibc's stat() is a symbol of its own only from 2.33 (before,
 *  an inline wrapper of __xstat), and every function bound by name must exist in glibc 2.17.
 *  x86-64's number and struct stat, as memfd_create's in native.ts. */
const SYS_newfstatat = 262, AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, STAT_SIZE = 144;
const S_IFMT = 0o170000, S_IFDIR = 0o040000, S_IFREG = 0o100000;

export interface FileStat {
  dev: bigint;
  ino: bigint;
  mode: number;
  uid: number;
  size: number;
  isDirectory: boolean;
  isFile: boolean;
}

/** stat(2) of `path` (lstat with `follow` false), or null with errno set when it fails. */
export function statOf(path: string, follow = true): FileStat | null {
  const st = new Uint8Array(STAT_SIZE), p = cstr(path);
  if (Number(libc.symbols.syscall(SYS_newfstatat, AT_FDCWD, addr(p), addr(st), follow ? 0 : AT_SYMLINK_NOFOLLOW, 0)) !== 0) return null;
  const v = new DataView(st.buffer), mode = v.getUint32(24, true);
  return {
    dev: v.getBigUint64(0, true), ino: v.getBigUint64(8, true), mode, uid: v.getUint32(28, true), size: Number(v.getBigInt64(48, true)),
    isDirectory: (mode & S_IFMT) === S_IFDIR, isFile: (mode & S_IFMT) === S_IFREG,
  };
}

/** Whether `path` exists (following links), as node:fs's existsSync says. */
export function exists(path: string): boolean {
  return statOf(path) !== null;
}

/** The names in a directory, without "." and "..", in the directory's order (readdirSync's). */
export function readDir(path: string): string[] {
  const dir = libc.symbols.opendir(cstr(path));
  if (!dir) throw new Error(`read directory ${path}: ${errnoName(errno())}`);
  const out: string[] = [];
  try {
    // struct dirent (glibc, 64-bit): d_ino u64, d_off u64, d_reclen u16, d_type u8, d_name at 19.
    for (let e = libc.symbols.readdir(dir); e; e = libc.symbols.readdir(dir)) {
      const name = new CString(e, 19).toString();
      if (name !== "." && name !== "..") out.push(name);
    }
  } finally {
    libc.symbols.closedir(dir);
  }
  return out;
}

/** A small file's whole text (files under /proc report size 0: read until the end). */
export function readText(path: string): string {
  const fd = libc.symbols.open(cstr(path), 0o2000000); // O_RDONLY | O_CLOEXEC
  if (fd < 0) throw new Error(`open ${path}: ${errnoName(errno())}`);
  let buf = new Uint8Array(16384), len = 0;
  try {
    for (;;) {
      if (len === buf.length) {
        const more = new Uint8Array(buf.length * 2);
        more.set(buf);
        buf = more;
      }
      const n = Number(libc.symbols.read(fd, buf.subarray(len), buf.length - len));
      if (n < 0) throw new Error(`read ${path}: ${errnoName(errno())}`);
      if (n === 0) break;
      len += n;
    }
  } finally {
    libc.symbols.close(fd);
  }
  return new TextDecoder().decode(buf.subarray(0, len));
}
