import { defineCommand } from "citty";
import { jsonArg } from "../../cli.ts";
import { ifaceArg, ruleArgs } from "./_shared.ts";
import { runAdd } from "./_add.ts";

export default defineCommand({
  meta: {
    name: "add",
    description: `Add a deny rule: matching packets are dropped (unless an allow rule matches too).

  A rule names an address (IPv4/IPv6 prefix, or mac ADDR), a protocol, a port, or an address
  together with a protocol or port (all must match). Addresses match the source unless --dst
  or --any; ports match the destination unless sport or --src (for a port-only rule).
  Adding a rule that exists already only sets its TTL (without --ttl: permanent from now on).
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
    xdptool blacklist add 198.18.9.0/24 --ttl 10m    # expires by itself`,
  },
  args: { ...ifaceArg, ...ruleArgs, ...jsonArg },
  run: ({ args }) => runAdd(args, false),
});
