// embedded.ts — the BPF objects built into the binary (bpf/*.bpf.c → dist/bpf/*.bpf.o).
import { readFileSync } from "node:fs";
import { objects } from "../dist/bpf/embedded.ts";

/** Programs an operator can `load` by name. `tx` is the lab's generator, never attached. */
export const LOADABLE = ["hello", "drop", "pass"] as const;

export function embeddedNames(): string[] {
  return Object.keys(objects).sort();
}

export function embeddedObject(name: string): Uint8Array | null {
  const path = objects[name];
  return path ? new Uint8Array(readFileSync(path)) : null;
}
