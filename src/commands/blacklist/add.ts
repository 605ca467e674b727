import { defineCommand, jsonArg } from "../../cli/define.ts";
import { ifaceArg, ruleArgs } from "./_shared.ts";
import { runAdd } from "./_add.ts";

export default defineCommand({
  meta: {
    name: "add",
    description: `Add a deny rule: matching packets are dropped (unless an allow rule matches too).

  A rule names an address (IPv4/IPv6 prefix, or mac ADDR), a protocol, a port, or an address
  together with a protocol or port (all must match). Addresses match the source unless --dst
  or --any; ports match the destination unless sport or --src (for a port-only rule).
  A port may be a list (80,443), a range (8000-8010, at most 1024 ports) or a service name
  (ssh, domain, https); an address may be a range FIRST-LAST, stored as the fewest prefixes that
  cover it. Each port and prefix becomes a rule of its own (listed, counted and deleted alone).
  Adding a rule that exists already only sets its TTL (without --ttl: permanent from now on)
  and, with --comment, its comment. A comment is text for people (list, export, save show it);
  it never changes what matches.
  Takes effect at once, on the live program. Longest prefix wins; when the longest one's rules
  do not fit the packet (another port, say), the next shorter prefix is asked, and so on.

  Examples:
    xdptool blacklist add 198.18.7.0/24              # drop everything from this prefix
    xdptool blacklist add 2001:db8:bad::/48 --any    # from or to
    xdptool blacklist add mac 02:00:00:00:00:01 --dst
    xdptool blacklist add port 53/udp                # UDP to port 53 (port 53 = TCP and UDP)
    xdptool blacklist add port 1900/udp --src        # UDP from port 1900
    xdptool blacklist add proto gre                  # or a number: proto 47
    xdptool blacklist add 198.18.7.0/24 port 22/tcp  # SSH from that prefix only
    xdptool blacklist add 198.18.9.0/24 --ttl 10m    # expires by itself
    xdptool blacklist add 198.18.7.0/24 port 80,443/tcp   # two rules, one per port
    xdptool blacklist add port 6881-6889/tcp         # nine rules
    xdptool blacklist add 198.18.0.10-198.18.0.20    # 198.18.0.10/31, .12/30, .16/30, .20/32
    xdptool blacklist add 198.18.7.0/24 --comment "botnet C2 list 2026-11"`,
  },
  args: { ...ifaceArg, ...ruleArgs, ...jsonArg },
  run: ({ args }) => runAdd(args, false),
});
