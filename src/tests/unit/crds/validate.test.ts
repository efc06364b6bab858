import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { tenantObjects } from "../../../capi/index.js";
import { defaultConfig } from "../../../config/index.js";
import { crdCatalog, validateObjects, type ValidationIssue } from "../../../crds/index.js";

/** A small CRD made here, exercising every Kubernetes schema extension the validator handles. */
const widgetCrd = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.test.example.com" },
  spec: {
    group: "test.example.com",
    names: { kind: "Widget", plural: "widgets" },
    scope: "Namespaced",
    versions: [
      { name: "v1old", served: false, storage: false, schema: { openAPIV3Schema: { type: "object" } } },
      {
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              apiVersion: { type: "string" },
              kind: { type: "string" },
              metadata: { type: "object" },
              spec: {
                type: "object",
                required: ["size"],
                "x-kubernetes-validations": [
                  { rule: "self.full || !has(self.format)", message: "format needs full" },
                  { rule: "self.size == oldSelf.size", message: "immutable" },
                ],
                properties: {
                  // A Kubernetes CEL library function the evaluator lacks.
                  quota: { type: "string", "x-kubernetes-validations": [{ rule: "quantity(self).isLessThan(quantity('10Gi'))", message: "quota too big" }] },
                  size: { "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string", pattern: "^\\d+%$" }] },
                  full: { type: "boolean", default: true },
                  format: { type: "string", enum: ["raw", "qcow2"] },
                  note: { type: "string", nullable: true },
                  free: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
                  closed: { type: "object" },
                  map: { type: "object", additionalProperties: { type: "integer" } },
                  tags: { type: "array", "x-kubernetes-list-type": "set", items: { type: "string", pattern: "^(?i)[a-z]+$" } },
                  ports: {
                    type: "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    items: { type: "object", properties: { name: { type: "string" }, port: { type: "integer", format: "int32", minimum: 1, exclusiveMinimum: true } } },
                  },
                  embedded: { type: "object", "x-kubernetes-embedded-resource": true, properties: { spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } },
                },
              },
            },
          },
        },
      },
    ],
  },
};

function widget(spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: "w", namespace: "ns" }): Record<string, unknown> {
  return { apiVersion: "test.example.com/v1", kind: "Widget", metadata, spec };
}

let crdDir: string;
beforeAll(async () => {
  crdDir = await mkdtemp(join(tmpdir(), "crds-"));
  await writeFile(join(crdDir, "test-widgets.yaml"), stringify(widgetCrd));
});
afterAll(async () => {
  await rm(crdDir, { recursive: true, force: true });
});

function check(object: unknown): ValidationIssue[] {
  return validateObjects([object], { crdDir });
}

function messages(object: unknown): string[] {
  return check(object).map((i) => `${i.path}: ${i.message}`);
}

describe("validateObjects with Kubernetes schema extensions", () => {
  it("accepts a correct object", () => {
    const ok = widget({
      size: "50%",
      format: "raw",
      note: null,
      free: { anything: { goes: [1] } },
      map: { a: 1 },
      tags: ["Abc", "def"],
      ports: [{ name: "a", port: 2 }, { name: "b", port: 2 }],
      embedded: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", labels: { a: "b" } }, spec: { x: 1 } },
    });
    expect(check(ok)).toEqual([]);
  });

  it("reports unknown fields like kubectl --validate=strict, at any depth", () => {
    expect(messages(widget({ size: 1, colour: "red" }))).toEqual(['spec.colour: unknown field "spec.colour"']);
    expect(messages(widget({ size: 1, closed: { x: 1 } }))).toEqual(['spec.closed.x: unknown field "spec.closed.x"']);
    expect(messages(widget({ size: 1 }, { name: "w", labelz: {} }))).toEqual(['metadata.labelz: unknown field "metadata.labelz"']);
    expect(messages({ ...widget({ size: 1 }), status: {} })).toEqual(['status: unknown field "status"']);
    expect(messages(widget({ size: 1, embedded: { apiVersion: "v1", kind: "X", metadata: { nam: "x" } } }))).toEqual([
      'spec.embedded.metadata.nam: unknown field "spec.embedded.metadata.nam"',
    ]);
  });

  it("checks int-or-string, nullable, enums, formats and exclusive bounds", () => {
    expect(messages(widget({ size: "50" }))).toEqual(expect.arrayContaining(["spec.size: must match a schema in anyOf"]));
    expect(messages(widget({ size: true }))).toEqual(expect.arrayContaining(["spec.size: must be an integer"]));
    expect(messages(widget({ size: 1, note: 3 }))).toEqual(["spec.note: must be a string or null"]);
    expect(messages(widget({ size: 1, format: "vmdk" }))).toEqual(["spec.format: must be one of: raw, qcow2"]);
    expect(messages(widget({ size: 1, ports: [{ name: "a", port: 1 }] }))).toEqual(["spec.ports[0].port: must be > 1"]);
    expect(messages(widget({ size: 1, ports: [{ name: "a", port: 2 ** 31 }] }))).toEqual(['spec.ports[0].port: must match format "int32"']);
    expect(messages(widget({ size: 1, map: { a: "x" } }))).toEqual(["spec.map.a: must be an integer"]);
  });

  it("checks list types and Go-style case-insensitive patterns", () => {
    expect(messages(widget({ size: 1, tags: ["a", "a"] }))).toEqual([expect.stringMatching(/^spec\.tags: must not repeat an item \(items 1 and 0 are equal\)$/)]);
    expect(messages(widget({ size: 1, ports: [{ name: "a" }, { name: "a" }] }))).toEqual(["spec.ports: must not repeat a list-map key"]);
    expect(messages(widget({ size: 1, tags: ["ABC", "a-b"] }))).toEqual([expect.stringMatching(/^spec\.tags\[1\]: must be a string matching /)]);
  });

  it("runs CEL rules after defaulting, and skips transition rules", () => {
    expect(check(widget({ size: 1, format: "raw" }))).toEqual([]); // full defaults to true
    expect(messages(widget({ size: 1, full: false, format: "raw" }))).toEqual(["spec: format needs full"]);
  });

  it("reports a CEL rule it cannot evaluate as unchecked, never as passed", () => {
    const issues = check(widget({ size: 1, quota: "1Gi" }));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: "spec.quota", unchecked: true });
    expect(issues[0]!.message).toMatch(/^CEL rule not checked \(the validator cannot (evaluate|parse) it: .+\): quantity\(self\)\.isLessThan\(quantity\('10Gi'\)\)$/);
    // Rules it can run still pass or fail as before, and carry no mark.
    expect(check(widget({ size: 1, full: false, format: "raw" }))[0]).not.toHaveProperty("unchecked");
  });

  it("requires metadata.name, apiVersion and kind", () => {
    expect(messages(widget({ size: 1 }, { namespace: "ns" }))).toEqual(expect.arrayContaining(["metadata: must match a schema in anyOf"]));
    expect(messages({ metadata: { name: "x" } })).toEqual([": apiVersion and kind are required"]);
    expect(messages(widget({}))).toEqual(['spec: missing required field "size"']);
  });

  it("reports kinds and versions that no CRD serves", () => {
    expect(messages({ ...widget({ size: 1 }), apiVersion: "test.example.com/v1old" })).toEqual([": Widget test.example.com/v1old is not served (test-widgets.yaml)"]);
    expect(messages({ ...widget({ size: 1 }), apiVersion: "test.example.com/v2" })).toEqual([": no CRD in shared/reference/crds defines Widget test.example.com/v2"]);
    expect(messages({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } })).toEqual([": no CRD in shared/reference/crds defines ConfigMap v1"]);
    expect(validateObjects([{ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" } }], { crdDir, skipBuiltIn: true })).toEqual([]);
  });

  it("names the object and its position in every issue", () => {
    const [issue] = validateObjects([widget({ size: 1 }), widget({ size: 1, x: 1 }, { name: "two", namespace: "ns" })], { crdDir });
    expect(issue).toMatchObject({ index: 1, kind: "Widget", apiVersion: "test.example.com/v1", name: "ns/two" });
  });
});

describe("validateObjects against the pinned upstream CRDs", () => {
  const objects = () => [...tenantObjects(defaultConfig()).values()].flat();
  const find = (kind: string) => structuredClone(objects().find((o) => o.kind === kind)) as any;

  it("accepts every object of the default tenant", () => {
    expect(validateObjects(objects())).toEqual([]);
  });

  it("catches what capmox's CRD forbids", () => {
    const pmt = find("ProxmoxMachineTemplate");
    Object.assign(pmt.spec.template.spec, { memoryMiB: 4097, full: false, format: "qcow2", colour: "red" });
    const found = validateObjects([pmt]).map((i) => `${i.path}: ${i.message}`);
    expect(found).toEqual(
      expect.arrayContaining([
        "spec.template.spec.memoryMiB: must be a multiple of 8",
        "spec.template.spec: Must set full=true when specifying format",
        'spec.template.spec.colour: unknown field "spec.template.spec.colour"',
      ]),
    );
    const pc = find("ProxmoxCluster");
    delete pc.spec.ipv4Config;
    expect(validateObjects([pc]).map((i) => i.message)).toContain("at least one ip config must be set, either ipv4Config or ipv6Config");
  });

  it("checks v1beta1 CAPI shapes (a v1beta2-style ref is an unknown field)", () => {
    const cluster = find("Cluster");
    cluster.spec.controlPlaneRef = { apiGroup: "controlplane.cluster.x-k8s.io", kind: "KamajiControlPlane", name: "demo" };
    expect(validateObjects([cluster]).map((i) => i.message)).toContain('unknown field "spec.controlPlaneRef.apiGroup"');
  });

  it("picks the CRD file of the profile when two define the same version", () => {
    const pc = find("ProxmoxCluster");
    pc.spec.zoneConfig = []; // only capmox v0.9's v1alpha1 has zoneConfig
    expect(validateObjects([pc]).map((i) => i.message)).toContain('unknown field "spec.zoneConfig"');
  });
});

describe("the CRD catalog", () => {
  it("indexes each file by the group and kind its full parse gives", async () => {
    for (const entry of crdCatalog()) {
      const doc = parse(await readFile(entry.path, "utf8"));
      expect([entry.group, entry.kind], entry.file).toEqual([doc.spec.group, doc.spec.names.kind]);
    }
  });
});
