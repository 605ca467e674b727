import { OpError } from "../../errors.ts";
import { defineCommand, jsonArg } from "../../cli/define.ts";
import { printJson, table } from "../../table.ts";

export default defineCommand({
  meta: {
    name: "status",
    description: `Show every interface running the DNS responder: its selection and counters per reason.

  ANSWERED got a TC=1 reply; SLIP_DROP were over the rate and dropped; the others passed to the
  server: NOT_DNS (not UDP to a configured port over plain IP), NOT_QUERY (a response, another
  opcode, or records besides one EDNS OPT), MALFORMED (lengths or name, IPv6 checksum 0),
  UNDER_RATE, NO_MATCH, TRANSIT (to an address not local, or outside --address) and OTHER_MAC
  (unicast to another station's MAC). Never answered and dropped: REFLECT_PORT (from UDP source
  port 0, 7, 13, 17, 19 or 37) and MARTIAN_SOURCE (from 127.0.0.0/8, ::1 and the rest of ::/96,
  IPv4-mapped ::ffff:0:0/96, or an address of this host). With --unverified-only, also
  ANSWERED_UNVERIFIED (of ANSWERED), PASSED_VERIFIED (from a verified source, to the server) and
  NEWLY_VERIFIED (TCP segments that verified a source); the VERIFIED column counts the sources
  (aggregates) verified now, expired ones left out. --json also lists the local prefixes the
  responder knows.

  Examples:
    xdptool responder status
    xdptool responder status --json | jq '.[0].counters.answered'`,
  },
  args: {
    interface: { type: "positional", required: false, description: "Only this interface (default: every one running the responder)" },
    ...jsonArg,
  },
  async run({ args }) {
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool responder status");
    const { pinnedInterfaces } = await import("../../ffi/bpffs.ts");
    const { hasResponder, readConfig, readStats, RESP_STATS } = await import("../../responder/maps.ts");
    const { enabledFeatures } = await import("../../combined/bits.ts");
    // Its maps stay pinned while the combined program runs other features: list it only when on.
    const on = (ifname: string) => hasResponder(ifname) && enabledFeatures(ifname).includes("responder");
    const only = args.interface?.split("/").pop();
    if (args.interface) {
      const { resolveIface } = await import("../../ffi/netns.ts");
      resolveIface(args.interface); // a missing interface is a usage error, said as such
    }
    if (only && !on(only)) throw new OpError(`${only} runs no DNS responder of xdptool (xdptool responder enable ${only})`);
    const rows = pinnedInterfaces()
      .filter((i) => (only ? i === only : on(i)))
      .flatMap((ifname) => {
        try {
          return [{ interface: ifname, config: readConfig(ifname), counters: readStats(ifname) }];
        } catch (e) {
          // Enabled or disabled while we listed (its pins come and go one by one): not one of them
          // yet, or no longer. Asked by name, the error is the answer.
          if (!only && e instanceof OpError) return [];
          throw e;
        }
      });
    if (args.json) return printJson(rows);
    if (rows.length === 0) return console.log("no interface runs the DNS responder (xdptool responder enable IFACE)");
    console.log(
      table(
        ["INTERFACE", "PORTS", "NAMES", "FROM", "OVER", "VERIFIED", ...RESP_STATS.map((s) => s.toUpperCase().replace("SLIP_DROPPED", "SLIP_DROP"))],
        rows.map((r) => [r.interface, r.config.ports.join(","), r.config.qnames || "all", r.config.from.join(",") || "all",
          r.config.over ? `${r.config.over}/s slip ${r.config.slip}` : "-", r.config.unverifiedOnly ? r.config.verified : "-", ...RESP_STATS.map((s) => r.counters[s])]),
      ),
    );
  },
});
