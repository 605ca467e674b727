// error.ts — turn libbpf's "-22" into "EINVAL (Invalid argument)" plus libbpf's own explanation.
import { OpError } from "../errors.ts";
import { bpf, errno } from "./native.ts";
import { errnoName } from "./errno.ts";

/** A failed libbpf/bpf() call. `errno` is positive; `log` is what libbpf printed meanwhile. */
export class BpfError extends OpError {
  constructor(
    readonly op: string,
    readonly errno: number,
    readonly log: string,
  ) {
    super(`${op}: ${describeErrno(errno)}${summarize(log)}`, log || undefined);
    this.name = "BpfError";
  }
}

export function describeErrno(err: number): string {
  const buf = Buffer.alloc(256);
  bpf().libbpf_strerror(-Math.abs(err), buf, buf.length);
  const text = buf.toString("utf8", 0, buf.indexOf(0));
  return `${errnoName(err)} (${text})`;
}

/** Everything libbpf printed since the last call (and forget it). */
export function takeLog(): string {
  const buf = Buffer.alloc(256 * 1024);
  const n = Number(bpf().xt_log_take(buf, buf.length));
  return buf.toString("utf8", 0, n).trim();
}

/** The single most useful line of a libbpf log: the verifier's complaint or libbpf's error. */
function summarize(log: string): string {
  if (!log) return "";
  const lines = log.split("\n").map((l) => l.trim()).filter(Boolean);
  // The verifier states the reason on the line just before "processed N insns" / "-- END PROG LOAD LOG --".
  const end = lines.findIndex((l) => l.startsWith("-- END PROG LOAD LOG"));
  if (end > 0) {
    const body = lines.slice(0, end).filter((l) => !/^processed \d+ insns|^verification time/.test(l));
    return ` — verifier: ${body[body.length - 1]}`;
  }
  const err = lines.filter((l) => /^libbpf: /.test(l)).pop() ?? lines[lines.length - 1];
  return ` — ${err.replace(/^libbpf: /, "")}`;
}

/** Check an int result: libbpf 1.x returns -errno from every call, syscall wrappers included. */
export function check(op: string, ret: number): number {
  if (ret >= 0) return ret;
  throw new BpfError(op, -ret, takeLog());
}

/** Check a pointer result: NULL means failure with errno set. */
export function checkPtr<P extends number | null>(op: string, p: P): NonNullable<P> {
  if (p) return p as NonNullable<P>;
  throw new BpfError(op, errno() || 22, takeLog());
}

export function clearLog(): void {
  takeLog();
}
