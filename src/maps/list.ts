// list.ts — the rows of `xdptool map list`.
import { allIds } from "../ffi/fd.ts";
import { BpfMap, type MapInfo } from "../ffi/map.ts";
import { mapOwners, pinnedMaps } from "./find.ts";

export interface MapRow extends Pick<MapInfo, "id" | "name" | "keySize" | "valueSize" | "maxEntries" | "flags" | "btfId"> {
  type: string;
  pins: string[];
  programs: { id: number; name: string }[];
}

export function listMaps(): MapRow[] {
  const pins = pinnedMaps(), owners = mapOwners();
  const rows: MapRow[] = [];
  for (const id of allIds("map")) {
    let m: BpfMap;
    try {
      m = BpfMap.byId(id);
    } catch {
      continue; // freed meanwhile
    }
    const i = m.info;
    m.close();
    rows.push({ id, type: i.typeName, name: i.name, keySize: i.keySize, valueSize: i.valueSize, maxEntries: i.maxEntries, flags: i.flags, btfId: i.btfId, pins: pins.get(id) ?? [], programs: owners.get(id) ?? [] });
  }
  return rows;
}
