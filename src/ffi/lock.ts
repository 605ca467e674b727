// lock.ts — exclusive flock(2) on lock files: held while a function runs (withLock), or taken
// without waiting (tryLock). Serialises processes that change the same pinned maps (several
// `blacklist add` at once) and tells whether a capture is still running (sample).
import { errno, libc } from "./native.ts";
import { errnoName } from "./errno.ts";
import { OpError } from "../errors.ts";

const LOCK_EX = 2, LOCK_NB = 4;
const EINTR = 4, EWOULDBLOCK = 11;

/** Where xdptool keeps the lock called `name` (one directory for all of them). */
export function lockFile(name: string): string {
  return `/run/xdptool/${name}.lock`;
}

// node:fs when a lock is taken, not when this module loads (status reads pins, takes no lock).
const fs = () => require("node:fs") as typeof import("node:fs");

function openLockFile(path: string): number {
  fs().mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true, mode: 0o700 });
  return fs().openSync(path, "a", 0o600);
}

export function withLock<T>(path: string, fn: () => T): T {
  const fd = openLockFile(path);
  try {
    for (;;) {
      if (libc.symbols.flock(fd, LOCK_EX) === 0) break;
      const e = errno();
      if (e !== EINTR) throw new OpError(`lock ${path}: ${errnoName(e)}`);
    }
    return fn();
  } finally {
    fs().closeSync(fd); // closing releases the lock
  }
}

/** Take an exclusive lock without waiting: the fd holding it, or null when someone else holds it. */
export function tryLock(path: string): number | null {
  const fd = openLockFile(path);
  if (libc.symbols.flock(fd, LOCK_EX | LOCK_NB) === 0) return fd;
  const e = errno();
  fs().closeSync(fd);
  if (e === EWOULDBLOCK) return null;
  throw new OpError(`lock ${path}: ${errnoName(e)}`);
}
