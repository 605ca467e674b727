// _shared.ts — arguments and set-up the map commands share.
import type { BpfMap } from "../../ffi/map.ts";
import { UsageError } from "../../errors.ts";

export const mapArg = { map: { type: "positional", required: true, description: "Map id, pin path or name" } } as const;
export const keyArg = { key: { type: "positional", required: true, description: "Key, in the syntax `map dump` prints (quote it)" } } as const;

/** Open the map a command names (after checking privileges). */
export async function openMap(spec: string): Promise<BpfMap> {
  const { requireCaps } = await import("../../privileges.ts");
  requireCaps("xdptool map");
  const { findMap } = await import("../../maps/find.ts");
  return findMap(spec);
}

const BPF_F_RDONLY = 1 << 3;

/** Refuse writes user space may not make: BPF_F_RDONLY maps and frozen maps (.rodata). */
export async function requireWritable(map: BpfMap): Promise<void> {
  const { isFrozen } = await import("../../maps/find.ts");
  if (map.info.flags & BPF_F_RDONLY) throw new UsageError(`map ${map.info.name} (id ${map.info.id}) is read-only from user space (BPF_F_RDONLY)`);
  if (isFrozen(map)) throw new UsageError(`map ${map.info.name} (id ${map.info.id}) is frozen (read-only from user space)`);
}
