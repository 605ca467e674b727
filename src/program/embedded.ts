// embedded.ts — the BPF objects built into the binary (bpf/*.bpf.c → dist/bpf/*.bpf.o).
import { existsSync, readFileSync, statSync } from "node:fs";
import { UsageError } from "../errors.ts";
import { objects } from "../../dist/bpf/embedded.ts";

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

/** Every embedded object by name (`xdptool run` takes any of them). */
export const EMBEDDED = Object.keys(objects).sort();

/**
 * The ELF image a PROGRAM argument names: a path to a .o (anything with a slash or ending in .o),
 * or one of `names`. Usage errors for a missing file, a file that is not ELF, an unknown name.
 */
export function programImage(arg: string, names: readonly string[]): Uint8Array {
  if (arg.includes("/") || arg.endsWith(".o")) {
    if (!existsSync(arg)) throw new UsageError(`no such file: ${arg}`);
    if (statSync(arg).isDirectory()) throw new UsageError(`${arg} is a directory; name a BPF object file (.o) in it`);
    const image = new Uint8Array(readFileSync(arg));
    if (image.length < 4 || image[0] !== 0x7f || image[1] !== 0x45 || image[2] !== 0x4c || image[3] !== 0x46) {
      throw new UsageError(`${arg} is not a BPF object file (no ELF header); build one with clang -target bpf`);
    }
    return image;
  }
  const image = names.includes(arg) ? embeddedObject(arg) : null;
  if (!image) throw new UsageError(`unknown program "${arg}": use ${names.join(", ")} or a path to a .o file`);
  return image;
}
