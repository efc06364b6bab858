/**
 * The user's path, from files on disk: `npm run synth` writes dist/apps/<tenant>.yaml, the
 * overlay's app chart and dist/tenants/<tenant>.yaml; the custom resource's spec rendered
 * through that chart the way CozyStack does (release `kubernetes-<name>` in its namespace,
 * values = spec) gives exactly the objects of the tenant's file.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { runSynth } from "../../../cli/synth.js";
import { emittedKinds } from "../../../capi/index.js";
import { printConfig } from "../../../config/index.js";
import { appChartPath, releasePrefix } from "../../../cozystack/app/index.js";
import { equivalenceCases } from "./cases.js";
import { byIdentity, helmTemplate, scratch, type Obj } from "./helm-app.js";

const tmp = scratch("app-synth-flow-");
afterAll(tmp.dispose);
const capiKinds = new Set(Object.values(emittedKinds).flat());

const readObjects = async (path: string): Promise<Obj[]> =>
  parseAllDocuments(await readFile(path, "utf8"))
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);

describe("npm run synth → dist/apps/<tenant>.yaml → the overlay's chart = dist/tenants/<tenant>.yaml", () => {
  const rich = equivalenceCases[1]!;

  it.each([
    ["the built-in config", undefined],
    [rich.name, rich.config],
  ] as const)("%s", async (_name, config) => {
    const dir = join(tmp.dir, config ? "rich" : "default");
    const args = ["--out", join(dir, "dist"), "--bundle", join(dir, "paas-proxmox.yaml")];
    if (config) {
      await writeFile(join(tmp.dir, "platform.yaml"), printConfig(config));
      args.push("--config", join(tmp.dir, "platform.yaml"));
    }
    const out: string[] = [];
    const code = await runSynth(args, { cwd: tmp.dir, stdout: (t) => out.push(t), stderr: (t) => out.push(t) });
    expect(code, out.join("")).toBe(0);

    const dist = join(dir, "dist");
    const [resource, ...more] = await readObjects(join(dist, "apps", `${config ? "alpha" : "demo"}.yaml`));
    expect(more).toEqual([]);
    expect(resource).toMatchObject({ apiVersion: "apps.cozystack.io/v1alpha1", kind: "Kubernetes" });
    const spec = (resource as unknown as { spec: Record<string, unknown> }).spec;
    // what `kubectl apply` sends is what Helm gets: the spec, read back from the file as YAML
    const values = parseAllDocuments(stringify(spec, { version: "1.1" }))[0]!.toJS() as Record<string, unknown>;
    const rendered = await helmTemplate(join(dist, "cozystack", appChartPath), {
      release: `${releasePrefix}${resource!.metadata.name}`,
      namespace: resource!.metadata.namespace!,
      values,
    });
    const fromChart = byIdentity(rendered.filter((o) => capiKinds.has(o.kind)));
    const fromFile = byIdentity(await readObjects(join(dist, "tenants", `${resource!.metadata.name}.yaml`)));
    expect([...fromChart.keys()].sort()).toEqual([...fromFile.keys()].sort());
    for (const [id, object] of fromFile) expect(fromChart.get(id), id).toEqual(object);
  });
});
