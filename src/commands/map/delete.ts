import { defineCommand } from "../../cli/define.ts";
import { OpError } from "../../errors.ts";
import { keyArg, mapArg, openMap, requireWritable } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "delete",
    description: `Delete one key from a map (arrays have no deletable keys: update them instead).

  Examples:
    xdptool map delete my_hash 198.18.0.7
    xdptool map delete my_lpm '{prefixlen: 24, addr: 198.18.0.0}'`,
  },
  args: { ...mapArg, ...keyArg },
  async run({ args }) {
    const map = await openMap(args.map);
    await requireWritable(map);
    const { MapCodec } = await import("../../maps/codec.ts");
    const k = new MapCodec(map).keyBytes(args.key);
    if (!map.delete(k)) throw new OpError(`key ${args.key} is not in map ${map.info.name} (id ${map.info.id})`);
    map.close();
  },
});
