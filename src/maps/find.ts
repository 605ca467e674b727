// find.ts — any BPF map on the host by id, pin path or name; and the inventory `map list` shows.
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { FORMER_NAMES, currentName, pinIn } from "./renamed.ts";
import { basename, dirname, join } from "node:path";
import { BpfMap } from "../ffi/map.ts";
import { allIds, closeFd, objGet } from "../ffi/fd.ts";
import { bpffsRoot, isBpffs } from "../ffi/bpffs.ts";
import { progInfoById } from "../ffi/prog.ts";
import { UsageError } from "../errors.ts";
import { BpfError } from "../ffi/error.ts";
import { ENOENT } from "../ffi/errno.ts";

/** What /proc/self/fdinfo says about an fd: map_id, map_type, frozen, prog_id, … */
export function fdInfo(fd: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of readFileSync(`/proc/self/fdinfo/${fd}`, "utf8").split("\n")) {
    const m = /^(\w+):\s*(.*)$/.exec(l);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** Every pinned map under bpffs: map id → pin paths. */
export function pinnedMaps(): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const walk = (dir: string, depth: number) => {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      let isDir = false;
      try {
        isDir = statSync(p).isDirectory();
      } catch {
        continue;
      }
      if (isDir) {
        if (depth < 8) walk(p, depth + 1);
        continue;
      }
      let fd = -1;
      try {
        fd = objGet(p);
        const id = Number(fdInfo(fd).map_id);
        if (id) out.set(id, [...(out.get(id) ?? []), p]);
      } catch {
        // not a BPF object we may open: skip
      } finally {
        closeFd(fd);
      }
    }
  };
  walk(bpffsRoot(), 0);
  return out;
}

/** Map id → names of the programs using it. */
export function mapOwners(): Map<number, { id: number; name: string }[]> {
  const out = new Map<number, { id: number; name: string }[]>();
  for (const pid of allIds("prog")) {
    try {
      const p = progInfoById(pid);
      for (const m of p.mapIds) out.set(m, [...(out.get(m) ?? []), { id: p.id, name: p.name }]);
    } catch {
      // the program went away while we looked
    }
  }
  return out;
}

function tryById(id: number): BpfMap | null {
  try {
    return BpfMap.byId(id);
  } catch (e) {
    if (e instanceof BpfError && e.errno === ENOENT) return null;
    throw e;
  }
}

/**
 * A map by "id N", "N", a pin path ("/sys/fs/bpf/…", or relative to xdptool's pin directory:
 * "xl-dut/xdptool_stats") or its name. A name several maps share is an error listing their ids.
 */
export function findMap(spec: string): BpfMap {
  const idm = /^(?:id\s*)?(\d+)$/.exec(spec.trim());
  if (idm) {
    const m = tryById(Number(idm[1]));
    if (!m) throw new UsageError(`no map with id ${idm[1]} (xdptool map list)`);
    return m;
  }
  if (spec.includes("/")) {
    // Relative to our pins, a renamed map answers to either of its names (maps/renamed.ts).
    const path = spec.startsWith("/") ? spec : pinIn(join(bpffsRoot(), "xdptool", dirname(spec)), currentName(basename(spec)));
    if (!existsSync(path)) throw new UsageError(`no pinned map at ${path}`);
    // BPF_OBJ_GET answers EACCES for both: say what is wrong instead.
    if (statSync(path).isDirectory()) throw new UsageError(`${path} is a directory; name a pinned map in it (xdptool map list shows the pins)`);
    if (!isBpffs(path)) throw new UsageError(`${path} is not on a BPF file system (bpffs): not a pinned map`);
    const fd = objGet(path);
    if (!fdInfo(fd).map_id) {
      closeFd(fd);
      throw new UsageError(`${path} is pinned but is not a map`);
    }
    return new BpfMap(fd);
  }
  // A renamed map (maps/renamed.ts) answers to either name: a program loaded since has the new
  // one, maps an older xdptool made and an upgrade adopted keep the former.
  let hits = byName(spec);
  const other = currentName(spec) !== spec ? currentName(spec) : FORMER_NAMES[spec];
  if (hits.length === 0 && other) hits = byName(other);
  if (hits.length === 1) return hits[0];
  for (const m of hits) m.close();
  if (hits.length > 1) throw new UsageError(`map name "${spec}" is ambiguous: ids ${hits.map((m) => m.info.id).join(", ")} (say "id N" or a pin path)`);
  throw new UsageError(`no map named "${spec}" (xdptool map list shows every map)`);
}

/** Every map the kernel holds under this name, opened. */
function byName(name: string): BpfMap[] {
  const hits: BpfMap[] = [];
  for (const id of allIds("map")) {
    const m = tryById(id);
    if (!m) continue;
    if (m.info.name === name) hits.push(m);
    else m.close();
  }
  return hits;
}

export function isFrozen(map: BpfMap): boolean {
  return fdInfo(map.fd).frozen === "1";
}
