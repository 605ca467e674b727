import { defineCommand } from "../../cli/define.ts";
import { UsageError } from "../../errors.ts";
import { keyArg, mapArg, openMap, requireWritable } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "update",
    description: `Set the value of a key (insert or replace). Per-CPU maps get the value on every CPU.

  Examples:
    xdptool map update xl-dut/xdptool_stats 2 '{packets: 0, bytes: 0}'   # reset a counter
    xdptool map update my_hash 198.18.0.7 1 --exist                      # only if present`,
  },
  args: {
    ...mapArg,
    ...keyArg,
    value: { type: "positional", required: true, description: "Value, in the syntax `map dump` prints" },
    exist: { type: "boolean", description: "Only replace an existing key (BPF_EXIST)" },
    noexist: { type: "boolean", description: "Only insert a new key (BPF_NOEXIST)" },
  },
  async run({ args }) {
    if (args.exist && args.noexist) throw new UsageError("--exist and --noexist exclude each other");
    const map = await openMap(args.map);
    await requireWritable(map);
    const { MapCodec } = await import("../../maps/codec.ts");
    const codec = new MapCodec(map);
    const k = codec.keyBytes(args.key);
    const v = codec.valueBytes(args.value);
    map.update(k, v, args.exist ? 2 : args.noexist ? 1 : 0);
    map.close();
  },
});
