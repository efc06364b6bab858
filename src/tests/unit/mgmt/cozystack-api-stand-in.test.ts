/**
 * The cozystack-api stand-in's pure parts: the app's values schema as a structural CRD
 * schema (each JSON Schema keyword a CRD lacks translated, or refused naming the path), and
 * the HelmRelease cozystack-api makes of a `Kubernetes` object.
 */
import { describe, expect, test } from "vitest";
import { defaultConfig } from "../../../config/index.js";
import { tenantResource } from "../../../cozystack/app/index.js";
import type { KubeObject } from "../../../kube/index.js";
import { appDefinition, applicationCrd, crdSchema, helmReleaseOf, withChartVersion } from "../../../mgmt/index.js";
import { applicationDefinition } from "../../../packages/index.js";

type Json = Record<string, unknown>;

describe("crdSchema", () => {
  test("drops additionalProperties false beside properties, keeps the rest", () => {
    const out = crdSchema({ type: "object", additionalProperties: false, required: ["a"], properties: { a: { type: "string", pattern: "^x$" } } });
    expect(out).toEqual({ type: "object", required: ["a"], properties: { a: { type: "string", pattern: "^x$" } } });
  });

  test("patternProperties become additionalProperties (the key pattern stays with Helm)", () => {
    const out = crdSchema({ type: "object", additionalProperties: false, patternProperties: { "^[a-z]+$": { type: "integer" } } });
    expect(out).toEqual({ type: "object", additionalProperties: { type: "integer" } });
  });

  test("uniqueItems becomes a set list, const a one-value enum", () => {
    expect(crdSchema({ type: "array", uniqueItems: true, items: { type: "string" } })).toEqual({ type: "array", items: { type: "string" }, "x-kubernetes-list-type": "set" });
    expect(crdSchema({ type: "string", const: "id" })).toEqual({ type: "string", enum: ["id"] });
  });

  test("an integer-or-string anyOf keeps each branch's bounds on the node", () => {
    const out = crdSchema({ anyOf: [{ type: "integer", minimum: 1 }, { type: "string", pattern: "^[1-9][0-9]*$" }] });
    expect(out).toEqual({ "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }], minimum: 1, pattern: "^[1-9][0-9]*$" });
    expect(() => crdSchema({ anyOf: [{ type: "integer", pattern: "x" }, { type: "string" }] }, "spec/cpu")).toThrow("spec/cpu: `pattern` in the integer branch");
  });

  test("if/then-required becomes a CEL rule", () => {
    const out = crdSchema({ type: "object", properties: { kind: { type: "string" }, id: { type: "integer" } }, allOf: [{ if: { properties: { kind: { const: "id" } } }, then: { required: ["id"] } }] });
    expect(out["x-kubernetes-validations"]).toEqual([{ rule: "!(has(self.kind) && self.kind == 'id') || (has(self.id))", message: 'when kind is "id", id must be set' }]);
  });

  test("a refused property (not: {}) keeps its shape and gets a CEL rule naming it, with its description as the reason", () => {
    const out = crdSchema({ type: "object", properties: { a: { type: "string" }, instanceType: { description: "KubeVirt only, refused: size with resources.", type: "string", not: {} } } });
    expect(out).toEqual({
      type: "object",
      properties: { a: { type: "string" }, instanceType: { description: "KubeVirt only, refused: size with resources.", type: "string" } },
      "x-kubernetes-validations": [{ rule: "!has(self.instanceType)", message: "instanceType: KubeVirt only, refused: size with resources.", fieldPath: ".instanceType" }],
    });
    expect(() => crdSchema({ type: "object", properties: { a: { type: "string", not: { const: "x" } } } }, "spec")).toThrow("values schema at spec/a: `not` other than");
  });

  test("a keyword without a CRD equivalent is refused, naming the path", () => {
    expect(() => crdSchema({ type: "object", properties: { a: { oneOf: [{ type: "string" }] } } }, "spec")).toThrow("values schema at spec/a: `oneOf` has no CRD equivalent");
    expect(() => crdSchema({ type: "array", uniqueItems: true, items: { type: "object" } }, "spec/x")).toThrow("spec/x: `uniqueItems` on a list of objects");
  });
});

describe("the Kubernetes CRD and its HelmRelease", () => {
  const config = defaultConfig();
  const definition = appDefinition(config);

  test("the CRD serves apps.cozystack.io/v1alpha1 Kubernetes (plural kuberneteses) with the values schema under spec", () => {
    const crd = applicationCrd(definition);
    const spec = crd["spec"] as Json;
    expect(crd.metadata.name).toBe("kuberneteses.apps.cozystack.io");
    expect(spec["names"]).toMatchObject({ kind: "Kubernetes", plural: "kuberneteses", singular: "kubernetes" });
    const version = (spec["versions"] as Json[])[0]!;
    const specSchema = ((version["schema"] as Json)["openAPIV3Schema"] as { properties: { spec: Json } }).properties.spec;
    expect(Object.keys(specSchema["properties"] as Json)).toEqual(Object.keys((JSON.parse(definition.spec.application.openAPISchema) as { properties: Json }).properties));
    // Nothing a CRD refuses survives the translation.
    expect(JSON.stringify(specSchema)).not.toMatch(/"(patternProperties|uniqueItems|const|if|then|\$schema)"|"additionalProperties":false/);
  });

  test("the HelmRelease is the one cozystack-api makes: kubernetes-<name>, the app chart from cozystack-apps, values = spec", () => {
    const tenant = config.tenants[0]!;
    const app = { ...tenantResource(config, tenant), metadata: { name: tenant.name, namespace: tenant.namespace, uid: "u-1", labels: { team: "a" } } } as unknown as KubeObject;
    const release = helmReleaseOf(definition, app);
    expect(release.metadata).toMatchObject({
      name: `kubernetes-${tenant.name}`,
      namespace: tenant.namespace,
      labels: { "apps.cozystack.io-team": "a", "cozystack.io/ui": "true", "apps.cozystack.io/application.kind": "Kubernetes", "apps.cozystack.io/application.name": tenant.name },
      ownerReferences: [{ kind: "Kubernetes", name: tenant.name, uid: "u-1", controller: true }],
    });
    expect(release["spec"]).toEqual({
      interval: "5m",
      chart: { spec: { chart: "kubernetes-proxmox", version: ">= 0.0.0-0", reconcileStrategy: "Revision", sourceRef: { kind: "HelmRepository", name: "cozystack-apps", namespace: "cozy-public" } } },
      install: { remediation: { retries: -1 } },
      upgrade: { remediation: { retries: -1 } },
      values: app["spec"],
    });
  });

  test("under profile cozystack-v1.6 the stand-in serves our v1.6 ApplicationDefinition: its kind, schema, prefix and release labels (Flux's tenant shard), the chart from the stand-in's HelmRepository", () => {
    const v16Config = { ...config, profile: "cozystack-v1.6" as const };
    const v16 = appDefinition(v16Config);
    const published = applicationDefinition(v16Config) as unknown as { spec: { application: unknown; release: { prefix: string; labels: Record<string, string> } } };
    expect(v16.spec.application).toEqual(published.spec.application);
    expect(v16.spec.release.prefix).toBe(published.spec.release.prefix);
    expect(v16.spec.release.labels).toEqual(published.spec.release.labels);
    expect(v16.spec.release.labels?.["sharding.fluxcd.io/key"]).toBe("tenants");
    expect(v16.spec.release.chart).toEqual(definition.spec.release.chart);
    expect(withChartVersion(new Map([["Chart.yaml", "apiVersion: v2\nname: x\nversion: 0.1.0\n"]]), "0.2.0").get("Chart.yaml")).toBe("apiVersion: v2\nname: x\nversion: 0.2.0\n");
  });
});
