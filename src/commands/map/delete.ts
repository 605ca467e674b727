import { defineCommand } from "../../cli/define.ts";
import { OpError, UsageError } from "../../errors.ts";
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
    // The kernel answers EINVAL: an array's keys are all there, always.
    if (map.info.typeName === "array" || map.info.typeName === "percpu_array") throw new UsageError(`map ${map.info.name} (id ${map.info.id}) is a ${map.info.typeName.replace("_", "-")} map: an array's keys cannot be deleted; set the value with \`xdptool map update\` instead`);
    const { MapCodec } = await import("../../maps/codec.ts");
    const k = new MapCodec(map).keyBytes(args.key);
    if (!map.delete(k)) throw new OpError(`key ${args.key} is not in map ${map.info.name} (id ${map.info.id})`);
    map.close();
  },
});
