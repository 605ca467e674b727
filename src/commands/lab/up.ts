import { defineCommand, jsonArg } from "../../cli/define.ts";
import { printJson, table } from "../../table.ts";
import { labArgs, labName } from "./_shared.ts";

export default defineCommand({
  meta: { name: "up", description: `Create the lab (two namespaces, a veth pair, addresses, XDP pass on the generator end). Idempotent.

  Examples:
    xdptool lab up                       # lab "xl" ($XDPTOOL_LAB if set)
    xdptool lab up --lab t2 --json       # a second lab beside it: t2-gen, t2-dut` },
  args: { ...labArgs, ...jsonArg },
  async run({ args }) {
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool lab up", ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]);
    const { labConfig, labUp, labAttachGenerator, labDown } = await import("../../lab/setup.ts");
    const lab = labConfig(labName(args));
    const state = labUp(lab);
    try {
      await labAttachGenerator(lab);
    } catch (e) {
      if (state === "created") labDown(lab);
      throw e;
    }
    if (args.json) return printJson({ state, ...lab });
    console.log(`lab ${lab.name}: ${state}`);
    console.log(table(["ROLE", "NETNS", "INTERFACE", "MAC", "IPV4", "IPV6"], [
      ["generator", lab.gen.ns, lab.gen.ifname, lab.gen.mac, `${lab.gen.ipv4}/24`, `${lab.gen.ipv6}/64`],
      ["device under test", lab.dut.ns, lab.dut.ifname, lab.dut.mac, `${lab.dut.ipv4}/24`, `${lab.dut.ipv6}/64`],
    ]));
    console.log(`next: xdptool load ${lab.dut.ifname} hello && xdptool lab traffic --count 1000 && xdptool stats ${lab.dut.ifname}`);
  },
});
