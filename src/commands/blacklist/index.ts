import type { CommandDef } from "citty";
import { defineCommand } from "../../cli/define.ts";

const sub = (load: () => Promise<{ default: CommandDef }>) => () => load().then((m) => m.default);

export default defineCommand({
  meta: {
    name: "blacklist",
    description: `Drop packets by MAC, IPv4/IPv6 prefix, protocol and port, in XDP, with per-rule counters.

  Examples:
    xdptool blacklist attach xl-dut
    xdptool blacklist add 198.18.7.0/24
    xdptool blacklist allow 198.18.7.10
    xdptool blacklist add 198.18.7.0/24 port 22/tcp --ttl 10m
    xdptool blacklist list
    xdptool blacklist status
    xdptool blacklist test 198.18.7.5 port 22/tcp
    xdptool blacklist import rules.txt --replace`,
  },
  subCommands: {
    attach: sub(() => import("./attach.ts")),
    detach: sub(() => import("./detach.ts")),
    add: sub(() => import("./add.ts")),
    allow: sub(() => import("./allow.ts")),
    del: sub(() => import("./del.ts")),
    flush: sub(() => import("./flush.ts")),
    list: sub(() => import("./list.ts")),
    status: sub(() => import("./status.ts")),
    test: sub(() => import("./test.ts")),
    import: sub(() => import("./import.ts")),
    export: sub(() => import("./export.ts")),
    gc: sub(() => import("./gc.ts")),
  },
});
