import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { configJsonSchema, defaultConfig, toUserForm } from "../../../config/index.js";
import { contains, formatIpv4, overlaps, parseCidr, parseIpv4, subnetOf } from "../../../config/ipv4.js";

describe("the config's JSON Schema (for editors)", () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(configJsonSchema());

  it("accepts the built-in default as a user writes it", () => {
    expect(validate(JSON.parse(JSON.stringify(toUserForm(defaultConfig()))))).toBe(true);
  });

  it("rejects unknown fields and wrong types", () => {
    const raw = JSON.parse(JSON.stringify(toUserForm(defaultConfig())));
    raw.proxmox.templateid = 9000;
    raw.network.prefix = "24";
    expect(validate(raw)).toBe(false);
    expect(validate.errors?.map((e) => `${e.instancePath} ${e.keyword}`)).toEqual(
      expect.arrayContaining(["/proxmox additionalProperties", "/network/prefix type"]),
    );
  });

  it("documents every property for editors", () => {
    const missing: string[] = [];
    const walk = (s: any, path: string) => {
      for (const [k, v] of Object.entries<any>(s.properties ?? {})) {
        if (!v.description && !path.includes("addressRanges") && !path.includes("secret")) missing.push(`${path}.${k}`);
        walk(v, `${path}.${k}`);
        if (v.items) walk(v.items, `${path}.${k}[]`);
      }
    };
    walk(configJsonSchema(), "");
    expect(missing).toEqual([]);
  });
});

describe("IPv4 helpers", () => {
  it("parses and formats addresses", () => {
    expect(parseIpv4("10.0.0.1")).toBe(167772161);
    expect(formatIpv4(167772161)).toBe("10.0.0.1");
    for (const bad of ["10.0.0", "256.0.0.1", "01.2.3.4", "a.b.c.d", 7]) expect(parseIpv4(bad)).toBeUndefined();
  });

  it("computes subnets and CIDRs", () => {
    const net = subnetOf(parseIpv4("10.0.0.77")!, 24);
    expect([formatIpv4(net.first), formatIpv4(net.last)]).toEqual(["10.0.0.0", "10.0.0.255"]);
    expect(parseCidr("10.244.0.0/16")).toMatchObject({ exact: true, prefix: 16 });
    expect(parseCidr("10.244.0.1/16")).toMatchObject({ exact: false });
    expect(parseCidr("10.244.0.0/33")).toBeUndefined();
    expect(contains(net, subnetOf(parseIpv4("10.0.0.128")!, 25))).toBe(true);
    expect(overlaps(net, subnetOf(parseIpv4("10.0.1.0")!, 24))).toBe(false);
  });
});
