import { defineCommand, jsonArg } from "../../cli/define.ts";
import { mapArg, openMap } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "dump",
    description: `Print every entry of a map, keys and values decoded through its BTF.

  Per-CPU maps show each CPU's value and their sum. Batch lookups are used where the kernel has
  them, so a million entries take seconds; a progress line appears on stderr on a terminal.

  Examples:
    xdptool map dump xl-dut/xdptool_stats
    xdptool map dump id 42 --json
    xdptool map dump /sys/fs/bpf/my_map --json | jq length`,
  },
  args: { ...mapArg, ...jsonArg },
  async run({ args }) {
    const map = await openMap(args.map);
    const { MapCodec, entryJson, entryText } = await import("../../maps/codec.ts");
    const { Out, walkEntries } = await import("../../maps/dump.ts");
    const codec = new MapCodec(map);
    const out = new Out();
    let first = true;
    if (args.json) out.write("[");
    const { count } = walkEntries(map, codec, (e) => {
      if (args.json) {
        out.write(`${first ? "\n" : ",\n"}${JSON.stringify(entryJson(e))}`);
        first = false;
      } else out.write(`${entryText(e)}\n`);
    });
    if (args.json) out.write(first ? "]\n" : "\n]\n");
    out.flush();
    if (!args.json) console.error(`${count} entries in map ${map.info.name} (id ${map.info.id}, ${map.info.typeName})`);
    map.close();
  },
});
