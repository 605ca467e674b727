// maps.ts — `xdptool run --map NAME[=FILE]`: fill a map of the program under test from a JSON file
// before the frames run (the array `map dump --json` prints: [{"key": …, "value": …}, …]), and
// show the map after they ran.
import { readFileSync } from "node:fs";
import { UsageError } from "../errors.ts";
import { MapCodec, entryJson, entryText } from "../maps/codec.ts";
import { walkEntries } from "../maps/dump.ts";
import type { ProgramUnderTest } from "./program.ts";

export interface MapSpec {
  name: string;
  seed?: string;
}

export function parseMapSpec(arg: string): MapSpec {
  const [name, ...file] = arg.split("=");
  if (!/^[\w.]+$/.test(name)) throw new UsageError(`--map takes NAME or NAME=FILE.json, not "${arg}"`);
  return file.length ? { name, seed: file.join("=") } : { name };
}

export function seedMap(prog: ProgramUnderTest, spec: MapSpec): void {
  if (!spec.seed) return;
  let entries: unknown;
  try {
    entries = JSON.parse(readFileSync(spec.seed, "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`--map ${spec.name}=${spec.seed}: ${code === "ENOENT" ? "no such file" : code ?? (e as Error).message}`);
  }
  if (!Array.isArray(entries)) throw new UsageError(`--map ${spec.name}=${spec.seed}: want a JSON array of {"key": …, "value": …}, as map dump --json prints`);
  const map = prog.map(spec.name);
  const codec = new MapCodec(map);
  entries.forEach((e, i) => {
    if (!e || typeof e !== "object" || !("key" in e) || !("value" in e)) throw new UsageError(`--map ${spec.name}=${spec.seed}: entry ${i + 1} has no "key" and "value"`);
    // Spaced JSON: the value syntax reads `"a": 1` but not the compact `"a":1`.
    map.update(codec.keyBytes(JSON.stringify(e.key, null, 1)), codec.valueBytes(JSON.stringify(e.value, null, 1)));
  });
}

/** The map's entries, as `map dump` shows them (text lines, or JSON values). */
export function dumpMap(prog: ProgramUnderTest, name: string, json: boolean): string[] | unknown[] {
  const map = prog.map(name);
  const codec = new MapCodec(map);
  const out: (string | unknown)[] = [];
  walkEntries(map, codec, (e) => out.push(json ? entryJson(e) : entryText(e)));
  return out;
}
