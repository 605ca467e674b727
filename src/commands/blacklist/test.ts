import { defineCommand, jsonArg } from "../../cli/define.ts";
import { printJson } from "../../table.ts";
import { OpError, UsageError } from "../../errors.ts";
import { ifaceArg } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "test",
    description: `Which rule decides for a packet from ADDR (to ADDR with --dst), and the verdict.

  Asks the attached program itself: its decision code runs once (BPF_PROG_TEST_RUN) on a built
  packet over the interface's live rules, and counts nothing. Prints the verdict (drop or pass)
  and the deciding rule as \`list\` shows it: the deny rule that matched, or the allow rule that
  let it pass; "no rule" when none matched. Exit 0 either way.

  The packet: from ADDR to the interface's own address (with --dst: from 192.0.2.1 or
  2001:db8:ffff::1 to ADDR), to the interface's MAC.
  Without port or proto it carries IP protocol 253 (IPv4) or 59 (IPv6) and no ports: only rules
  on the address alone decide, not those that also name a port or protocol — name one to test
  those. A port not given (the source port for \`port\`, or both for \`proto tcp\`) is one that no
  rule names. \`mac MAC\` alone tests a non-IP frame from (to, with --dst) that MAC: only MAC
  rules decide.

  Examples:
    xdptool blacklist test 198.18.7.5
    xdptool blacklist test 198.18.7.5 port 22/tcp       # TCP to port 22
    xdptool blacklist test 198.18.7.5 sport 53/udp      # UDP from port 53
    xdptool blacklist test 2001:db8::7 proto icmpv6
    xdptool blacklist test 198.18.7.5 --dst --json
    xdptool blacklist test mac 02:00:00:00:00:01`,
  },
  args: {
    interface: { ...ifaceArg.interface, description: "Interface whose blacklist to ask (default: the only one attached)" },
    src: { type: "boolean", description: "The address (or MAC) is the packet's source (the default)" },
    dst: { type: "boolean", description: "The address (or MAC) is the packet's destination" },
    ...jsonArg,
  },
  async run({ args }) {
    const words = ((args._ as string[]) ?? []).map(String);
    if (words.length === 0) throw new UsageError("name the packet's address: test ADDR [port N/PROTO], or test mac MAC");
    const { parseRule } = await import("../../blacklist/rules.ts");
    const { testQuestion, testPacket, probe } = await import("../../blacklist/probe.ts");
    if (args.src && args.dst) throw new UsageError("choose one of --src, --dst (got --src and --dst)");
    const q = testQuestion(parseRule(words, { dir: args.dst ? "dst" : "src" }));
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool blacklist");
    const { attachedInterfaces, chooseInterface, withBlacklist, listedRule } = await import("../../blacklist/store.ts");
    const { resolveIface } = await import("../../ffi/netns.ts");
    const opt = args.interface as string | undefined;
    if (opt) {
      const iface = resolveIface(opt); // exit 2 when there is no such interface
      if (!attachedInterfaces().includes(iface.name)) throw new OpError(`no blacklist runs on ${iface.name}; attach one: xdptool blacklist attach ${iface.name}`);
    }
    const ifname = chooseInterface(opt);
    const iface = resolveIface(opt ?? ifname);
    // Under the blacklist's lock: the ids the probe reports are the ones listed below.
    const out = withBlacklist(ifname, (bl) => {
      const { packet, frame, candidates } = testPacket(q, iface, bl);
      const { verdict, rule: handle } = probe(ifname, frame);
      const rule = handle && bl.idOfHandle(handle);
      return { interface: ifname, verdict, rule: rule ? listedRule(bl, rule, candidates) ?? { id: rule } : null, packet };
    });
    if (args.json) return printJson(out);
    const r = out.rule as { id: number; rule?: string } | null;
    console.log(r ? `${out.verdict} by rule ${r.id}: ${r.rule ?? "?"}` : `${out.verdict}: no rule`);
  },
});
