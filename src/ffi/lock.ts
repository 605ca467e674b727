// lock.ts — an exclusive flock(2) on a lock file, held while a function runs.
// Serialises processes that change the same pinned maps (e.g. several `blacklist add` at once).
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { errno, libc } from "./native.ts";
import { errnoName } from "./errno.ts";
import { OpError } from "../errors.ts";

const LOCK_EX = 2;
const EINTR = 4;

export function withLock<T>(path: string, fn: () => T): T {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, "a", 0o600);
  try {
    for (;;) {
      if (libc.symbols.flock(fd, LOCK_EX) === 0) break;
      const e = errno();
      if (e !== EINTR) throw new OpError(`lock ${path}: ${errnoName(e)}`);
    }
    return fn();
  } finally {
    closeSync(fd); // closing releases the lock
  }
}

const LOCK_NB = 4, EWOULDBLOCK = 11;

/** Take an exclusive lock without waiting: the fd holding it, or null when someone else holds it. */
export function tryLock(path: string): number | null {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, "a", 0o600);
  if (libc.symbols.flock(fd, LOCK_EX | LOCK_NB) === 0) return fd;
  const e = errno();
  closeSync(fd);
  if (e === EWOULDBLOCK) return null;
  throw new OpError(`lock ${path}: ${errnoName(e)}`);
}
