import type { CommandDef } from "citty";
import { defineCommand } from "../../cli/define.ts";

const sub = (load: () => Promise<{ default: CommandDef }>) => () => load().then((m) => m.default);

export default defineCommand({
  meta: {
    name: "map",
    description: `Any BPF map on the host (not only xdptool's): list, dump, get, update, delete.

  A MAP is an id ("42" or "id 42"), a pin path (/sys/fs/bpf/…, or "xl-dut/xdptool_stats" under
  xdptool's pin directory) or a map name (an error lists the ids if several maps share it).
  Keys and values are read and printed through the map's BTF: structs as {field: value}, IP and
  MAC addresses as addresses, enums by name; maps without BTF as hex bytes. bpftool's own
  spellings work as well: \`map lookup id 42 key 0 0 0 0\`, \`… key hex 0a 00 00 01 value 1 0 0 0
  noexist\`.

  Examples:
    xdptool map list
    xdptool map dump xl-dut/xdptool_stats
    xdptool map get xdptool_stats 2
    xdptool map update xl-dut/xdptool_stats 2 '{packets: 0, bytes: 0}'
    xdptool map delete my_lpm '{prefixlen: 32, addr: 198.18.0.1}'`,
  },
  subCommands: {
    list: sub(() => import("./list.ts")),
    dump: sub(() => import("./dump.ts")),
    get: sub(() => import("./get.ts")),
    update: sub(() => import("./update.ts")),
    delete: sub(() => import("./delete.ts")),
  },
});
