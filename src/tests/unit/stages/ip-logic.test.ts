import { describe, expect, it } from "vitest";
import {
  addressesFromAgent,
  addressesFromConfig,
  addressesFromTags,
  findConflicts,
  inRanges,
  parseRanges,
} from "../../../stages/stage2/ip-logic.js";

const ranges = parseRanges([{ start: "10.0.0.100", end: "10.0.0.199" }]);
const guest = { vmid: 120, node: "pve1", name: "web" };

describe("VM address ranges", () => {
  it("parses IPv4 and ranges, refusing bad ones by index", () => {
    expect(inRanges("10.0.0.256", ranges)).toBeUndefined();
    expect(inRanges("10.0.0.150", ranges)?.label).toBe("10.0.0.100-10.0.0.199");
    expect(inRanges("10.0.0.200", ranges)).toBeUndefined();
    expect(() => parseRanges([{ start: "10.0.0.9", end: "10.0.0.1" }])).toThrow("network.addressRanges[0]: '10.0.0.9-10.0.0.1'");
  });

  it("reads addresses from ipconfig, LXC nets, the guest agent and capmox tags", () => {
    expect(addressesFromConfig({ ...guest, type: "qemu" }, { ipconfig0: "ip=10.0.0.150/24,gw=10.0.0.1", ipconfig1: "ip=dhcp" })).toEqual([
      { ...guest, ip: "10.0.0.150", source: "ipconfig", where: "ipconfig0" },
    ]);
    expect(addressesFromConfig({ ...guest, type: "lxc" }, { net0: "name=eth0,bridge=vmbr0,ip=10.0.0.151/24" })[0]).toMatchObject({ ip: "10.0.0.151", source: "lxc-net" });
    const agent = addressesFromAgent(guest, [
      { name: "lo", "ip-addresses": [{ "ip-address": "127.0.0.1", "ip-address-type": "ipv4" }] },
      { name: "eth0", "ip-addresses": [{ "ip-address": "10.0.0.152", "ip-address-type": "ipv4" }, { "ip-address": "fe80::1", "ip-address-type": "ipv6" }] },
    ]);
    expect(agent.map((a) => [a.ip, a.where])).toEqual([["10.0.0.152", "eth0"]]);
    expect(addressesFromTags(guest, "k8s;ip_net0_10.0.0.153;other")).toEqual([
      { ...guest, ip: "10.0.0.153", source: "capmox-tag", where: "ip_net0_10.0.0.153" },
    ]);
  });

  it("reports addresses in the ranges used without a capmox allocation, and counts capmox's own", () => {
    const foreign = addressesFromConfig({ ...guest, type: "qemu" }, { ipconfig0: "ip=10.0.0.150/24" });
    const capmoxVm = { vmid: 130, node: "pve2", name: "worker-1" };
    const managed = [
      ...addressesFromTags(capmoxVm, "ip_net0_10.0.0.101"),
      ...addressesFromAgent(capmoxVm, [{ name: "eth0", "ip-addresses": [{ "ip-address": "10.0.0.101", "ip-address-type": "ipv4" }] }]),
    ];
    const outside = addressesFromConfig({ vmid: 140, node: "pve1", type: "qemu" }, { ipconfig0: "ip=10.0.0.20/24" });
    const { conflicts, managed: allocated } = findConflicts([...foreign, ...managed, ...outside], ranges);
    expect(conflicts).toEqual([{ ip: "10.0.0.150", range: "10.0.0.100-10.0.0.199", users: foreign }]);
    expect(allocated.map((a) => a.ip)).toEqual(["10.0.0.101"]);
  });
});
