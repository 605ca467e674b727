// bpffs.ts — where xdptool keeps what must outlive the process: /sys/fs/bpf/xdptool/<ifname>/.
//
// `ip netns exec` gives the command a fresh /sys without bpffs. Pins made on a bpffs mounted in
// that private mount namespace would vanish with it (and detach the program), so we reach the
// host's bpffs through /proc/<pid>/root of an ancestor instead (see bpffsRoot).
import { cstr, errno, libc } from "./native.ts";
import { exists, readDir, readText, statOf } from "./files.ts";
import { alloc } from "./layout.ts";
import { errnoName } from "./errno.ts";
import { OpError } from "../errors.ts";

const BPF_FS_MAGIC = 0xcafe4a11;
// What only asks (status, stats, list) goes through files.ts; node:fs loads when pins change.
const fs = () => require("node:fs") as typeof import("node:fs");

export function isBpffs(path: string): boolean {
  const st = alloc(120); // struct statfs; f_type is the first field (long)
  return libc.symbols.statfs(cstr(path), st) === 0 && Number(st.readBigInt64LE(0)) === BPF_FS_MAGIC;
}

/** Our ancestors' pids, nearest first (from /proc/<pid>/stat, field 4). */
function ancestors(): number[] {
  const out: number[] = [];
  for (let pid = process.pid; pid > 1 && out.length < 32; ) {
    try {
      const stat = readText(`/proc/${pid}/stat`);
      pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      break;
    }
    if (pid > 1) out.push(pid);
  }
  return out;
}

let root: string | undefined;
/**
 * The bpffs mount to pin into. Inside `ip netns exec` /sys is a fresh sysfs without bpffs, and
 * /proc/1/root may be closed to us; but the shell that ran `ip netns exec` still sees the host's
 * /sys/fs/bpf, and /proc/<its pid>/root leads there. Only when no such mount exists at all is a
 * bpffs mounted at /sys/fs/bpf.
 */
export function bpffsRoot(): string {
  if (root) return root;
  // Our own /sys/fs/bpf first: walking the ancestors (a /proc read each) only inside `ip netns exec`.
  if (isBpffs("/sys/fs/bpf")) return (root = "/sys/fs/bpf");
  const candidates = [...ancestors().map((p) => `/proc/${p}/root/sys/fs/bpf`), "/proc/1/root/sys/fs/bpf"];
  for (const p of candidates) if (isBpffs(p)) return (root = p);
  fs().mkdirSync("/sys/fs/bpf", { recursive: true });
  if (libc.symbols.mount(cstr("bpf"), cstr("/sys/fs/bpf"), cstr("bpf"), 0n, null) !== 0) {
    throw new OpError(`mount bpffs on /sys/fs/bpf: ${errnoName(errno())}`);
  }
  return (root = "/sys/fs/bpf");
}

/** A pin path as the host sees it (for messages), whatever route bpffsRoot() took. */
export function hostPath(path: string): string {
  return path.replace(/^\/proc\/\d+\/root/, "");
}

/**
 * Name of a pin staged before it replaces `name`. bpffs refuses any name with a dot in it (EPERM:
 * dots are reserved for its own files such as maps.debug), hence a prefix and a dash.
 */
export function stagingName(name: string): string {
  return `staging-${name}`;
}

/** Our directory for one interface (not created). */
export function pinDir(ifname: string): string {
  return `${bpffsRoot()}/xdptool/${ifname}`;
}

export function ensureDir(dir: string): string {
  fs().mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Rename a pin (atomic within bpffs: readers see the old or the new object, never nothing). */
export function renamePin(from: string, to: string): void {
  fs().renameSync(from, to);
}

/** Pin the object pinned at `from` under `to` as well (a hard link: bpffs allows them), replacing
 *  whatever `to` held; nothing changes when both already name the same object. */
export function linkPin(from: string, to: string): void {
  const t = statOf(to);
  if (t && t.ino === statOf(from)?.ino) return;
  const cut = to.lastIndexOf("/");
  const tmp = `${to.slice(0, cut)}/${stagingName(to.slice(cut + 1))}`;
  unpin(tmp);
  fs().linkSync(from, tmp);
  fs().renameSync(tmp, to);
}

/** Interfaces that have an xdptool pin directory. */
export function pinnedInterfaces(): string[] {
  const d = `${bpffsRoot()}/xdptool`;
  return exists(d) ? readDir(d).sort() : [];
}

export function pinnedFiles(dir: string): string[] {
  return exists(dir) ? readDir(dir).sort() : [];
}

/** Unpin (unlink) one object; missing is fine. (Bun's rmSync fails on bpffs with EFAULT.) */
export function unpin(path: string): void {
  if (exists(path)) fs().unlinkSync(path);
}

/** Remove a pin directory and every pin in it. */
export function removePinDir(dir: string): void {
  if (!exists(dir)) return;
  for (const f of readDir(dir)) unpin(`${dir}/${f}`);
  fs().rmdirSync(dir);
}
