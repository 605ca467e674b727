import { defineCommand, interfaceArg } from "../../cli/define.ts";

export default defineCommand({
  meta: {
    name: "watch",
    description: `Keep the responder's list of local addresses current (started by enable; rarely run by hand).

  The responder answers only queries to addresses of this host: the kernel's local routes
  (interface addresses, VIPs on lo). enable writes them once and starts this command in the
  background; it follows route changes over netlink and exits when the responder is disabled.
  One runs per interface.

  Examples:
    xdptool responder watch xl-dut &`,
  },
  args: { ...interfaceArg },
  async run({ args }) {
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool responder watch");
    const { resolveIface } = await import("../../ffi/netns.ts");
    const { hasResponder } = await import("../../responder/maps.ts");
    const { OpError } = await import("../../errors.ts");
    const iface = resolveIface(args.interface);
    if (!hasResponder(iface.name)) throw new OpError(`${iface.name} runs no DNS responder (xdptool responder enable ${iface.name})`);
    const { watch } = await import("../../responder/local.ts");
    await watch(iface);
  },
});
