// privileges.ts — say plainly what is missing instead of letting the kernel answer EPERM.
import { effectiveCaps } from "./ffi/sys.ts";
import { OpError } from "./errors.ts";

const CAPS = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 } as const;
type Cap = keyof typeof CAPS;

/** Throw a clear error unless every listed capability is effective. CAP_SYS_ADMIN covers CAP_BPF/PERFMON. */
export function requireCaps(what: string, caps: Cap[] = ["CAP_BPF", "CAP_NET_ADMIN"]): void {
  const eff = effectiveCaps();
  const has = (c: Cap) => (eff >> BigInt(CAPS[c])) & 1n || ((c === "CAP_BPF" || c === "CAP_PERFMON") && (eff >> 21n) & 1n);
  const missing = caps.filter((c) => !has(c));
  if (missing.length) throw new OpError(`${what} needs ${caps.join(" and ")} (run as root): missing ${missing.join(", ")}`);
}
