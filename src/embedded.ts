// embedded.ts — the BPF objects built into the binary (bpf/*.bpf.c → dist/bpf/*.bpf.o).
import { readFileSync } from "node:fs";
import { objects } from "../dist/bpf/embedded.ts";

/**
 * Programs an operator can `load` by name. `xdptool` is the combined program the feature commands
 * use; loading it again after an upgrade swaps in the new code and keeps every pinned map.
 * `tx` (the lab's generator) and `bare_drop` (bench baseline) are never attached by name.
 */
export const LOADABLE = ["hello", "drop", "pass", "xdptool"] as const;

export function embeddedObject(name: string): Uint8Array | null {
  const path = objects[name];
  return path ? new Uint8Array(readFileSync(path)) : null;
}
