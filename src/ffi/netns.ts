// netns.ts — interfaces by name, across network namespaces.
//
// The lab puts its interfaces in their own namespaces, so `xdptool load xl-dut` from the host
// resolves a name in the current namespace first, then in each named namespace (/run/netns).
// "NS/IFNAME" names one explicitly. Entering a namespace affects only the calling thread — the
// JavaScript thread, which is the one that makes every bpf() and netlink call.
import { cstr, errno, libc } from "./native.ts";
import { exists, readDir, statOf, type FileStat } from "./files.ts";
import { errnoName } from "./errno.ts";
import { OpError, UsageError } from "../errors.ts";

const CLONE_NEWNET = 0x40000000;
const O_RDONLY = 0, O_CLOEXEC = 0o2000000;
const NETNS_DIR = "/run/netns";

let home = -1;
/** The namespace the process started in, as stat() sees it (taken before any setns). */
let homeNs: FileStat | null = null;
let current: string | null = null;

function enterPath(path: string): void {
  const fd = libc.symbols.open(cstr(path), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw new OpError(`open network namespace ${path}: ${errnoName(errno())}`);
  try {
    if (libc.symbols.setns(fd, CLONE_NEWNET) !== 0) throw new OpError(`enter network namespace ${path}: ${errnoName(errno())}`);
  } finally {
    libc.symbols.close(fd);
  }
}

/** Enter a named namespace (null = the one we started in). */
export function enterNetns(name: string | null): void {
  if (name === current) return;
  if (home < 0) {
    homeNs ??= statOf("/proc/self/ns/net");
    home = libc.symbols.open(cstr("/proc/thread-self/ns/net"), O_RDONLY | O_CLOEXEC);
  }
  if (name === null) {
    if (libc.symbols.setns(home, CLONE_NEWNET) !== 0) throw new OpError(`return to network namespace: ${errnoName(errno())}`);
  } else enterPath(`${NETNS_DIR}/${name}`);
  current = name;
}

/**
 * Named namespaces, except the one we started in (under `ip netns exec X`, X is where we already
 * are, and listing it again would show its interfaces twice).
 */
export function namedNetns(): string[] {
  if (!exists(NETNS_DIR)) return [];
  const home = current === null ? (homeNs ??= statOf("/proc/self/ns/net")) : homeNs;
  return readDir(NETNS_DIR).sort().filter((n) => {
    const st = statOf(`${NETNS_DIR}/${n}`);
    return !!st && !(home && st.ino === home.ino && st.dev === home.dev);
  });
}

export function ifIndex(name: string): number {
  return libc.symbols.if_nametoindex(cstr(name));
}

export interface Iface {
  name: string;
  ifindex: number;
  /** Named namespace it lives in; null = the namespace xdptool started in. */
  netns: string | null;
}

const IFNAME_RE = /^[^\s/:]{1,15}$/;

/**
 * Find an interface and enter its namespace. Accepts "IFNAME" or "NETNS/IFNAME".
 * Throws a UsageError naming what was looked at when it does not exist.
 */
/** The named namespaces that hold an interface called `name` (this one is not looked at); left in
 *  whichever namespace was entered last. */
function namedNetnsWith(name: string): string[] {
  return namedNetns().filter((n) => {
    try {
      enterNetns(n);
    } catch (e) {
      // Listed but not (or no longer) a namespace: `ip netns add` creates the file before it
      // mounts the namespace there, `del` unmounts before it removes it. Not where `name` is.
      if (e instanceof OpError) return false;
      throw e;
    }
    return ifIndex(name) > 0;
  });
}

/** Whether an interface called `name` exists in this namespace or any named one. */
export function ifaceExists(name: string): boolean {
  enterNetns(null);
  const found = ifIndex(name) > 0 || namedNetnsWith(name).length > 0;
  enterNetns(null);
  return found;
}

export function resolveIface(spec: string): Iface {
  // NETNS/IFNAME: everything after the first slash is the name (a second slash makes it invalid).
  const at = spec.indexOf("/"), [ns, name] = at < 0 ? [undefined, spec] : [spec.slice(0, at), spec.slice(at + 1)];
  if (!IFNAME_RE.test(name)) throw new UsageError(`invalid interface name "${spec}"`);
  if (ns !== undefined) {
    if (!namedNetns().includes(ns)) throw new UsageError(`no network namespace "${ns}" (see \`ip netns list\`)`);
    enterNetns(ns);
    const i = ifIndex(name);
    if (!i) throw new UsageError(`no interface "${name}" in network namespace ${ns}`);
    return { name, ifindex: i, netns: ns };
  }
  enterNetns(null);
  const here = ifIndex(name);
  if (here) return { name, ifindex: here, netns: null };
  const found = namedNetnsWith(name);
  if (found.length === 1) {
    enterNetns(found[0]);
    return { name, ifindex: ifIndex(name), netns: found[0] };
  }
  enterNetns(null);
  if (found.length > 1) throw new UsageError(`interface "${name}" exists in several namespaces (${found.join(", ")}): say which, e.g. ${found[0]}/${name}`);
  throw new UsageError(`no interface "${name}" (looked in this namespace and ${namedNetns().length} named ones; \`ip link\` lists them)`);
}
