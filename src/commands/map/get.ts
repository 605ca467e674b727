import { defineCommand, jsonArg } from "../../cli/define.ts";
import { OpError } from "../../errors.ts";
import { printJson } from "../../table.ts";
import { keyArg, mapArg, openMap } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "get",
    description: `Look up one key of a map and print its value.

  Examples:
    xdptool map get xl-dut/xdptool_stats 2
    xdptool map get my_lpm '{prefixlen: 32, addr: 198.18.0.1}' --json`,
  },
  args: { ...mapArg, ...keyArg, ...jsonArg },
  async run({ args }) {
    const map = await openMap(args.map);
    const { MapCodec, entryJson, entryText } = await import("../../maps/codec.ts");
    const codec = new MapCodec(map);
    const k = codec.keyBytes(args.key);
    const v = map.lookup(k);
    if (!v) throw new OpError(`key ${args.key} is not in map ${map.info.name} (id ${map.info.id})`);
    const e = codec.entry(k, 0, v, 0);
    if (args.json) printJson(entryJson(e));
    else console.log(entryText(e));
    map.close();
  },
});
