import type { CommandDef } from "citty";
import { defineCommand } from "../../cli/define.ts";

const sub = (load: () => Promise<{ default: CommandDef }>) => () => load().then((m) => m.default);

export default defineCommand({
  meta: {
    name: "responder",
    description: `DNS "TC bit" responder: answer UDP queries with an empty truncated reply (TC=1), sent back by XDP_TX.

  A real resolver retries a truncated answer over TCP; a spoofed-source flood cannot, so the server
  behind only sees clients that completed a TCP handshake. With --unverified-only such a client is
  then served over UDP too. The reply is the query's header and question, and an EDNS OPT when the
  query had one (never larger than the query). Anything that is not a plain query passes untouched.
  Needs Linux 5.18 (bpf_loop, bpf_xdp_load_bytes), probed before loading.

  Examples:
    xdptool responder enable xl-dut                                   # TC=1 to every query on port 53
    xdptool responder enable xl-dut --qname example.test --from 198.18.64.0/18
    xdptool responder enable xl-dut --over 100 --slip 2               # only sources above 100 q/s
    xdptool responder enable xl-dut --unverified-only                 # TC until a source has used TCP
    xdptool responder status --json
    xdptool responder disable xl-dut`,
  },
  subCommands: {
    enable: sub(() => import("./enable.ts")),
    disable: sub(() => import("./disable.ts")),
    status: sub(() => import("./status.ts")),
    watch: sub(() => import("./watch.ts")),
  },
});
