/**
 * `npm run kube:binaries [-- --update] [--force] [--verbose] [--kube-only]`: builds (or
 * reuses) every Go program the project runs, each under .cache/<name>/<version>/:
 * kube-apiserver, kube-controller-manager and etcd, then the Cluster API controllers (CAPI
 * core and kubeadm bootstrap, capmox, IPAM), Flux's helm-controller and controller-gen (which
 * generates the source CRDs helm-controller reads). `npm run tools` ends with it. `--kube-only`
 * stops after the first three. `--update` first moves tools/kube and tools/etcd to the newest
 * patch of their lines (the other pins are chosen by hand: see src/mgmt/binaries.ts and
 * src/mgmt/flux-binaries.ts).
 */
import { parseArgs } from "node:util";
import { ensureBinary, kubeBinarySpecs, updateConsumerModule, type GoBinarySpec } from "../kube/env/index.js";
import { controllerSpecs } from "../mgmt/index.js";

export async function kubeBinariesMain(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      update: { type: "boolean", default: false },
      force: { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
      "kube-only": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log("usage: npm run kube:binaries -- [--update] [--force] [--verbose] [--kube-only]");
    return 0;
  }
  const log = (line: string): void => console.log(line);
  const started = Date.now();
  if (values.update) await updateKubeModules(log, values.verbose);
  const specs: readonly GoBinarySpec[] = values["kube-only"] ? kubeBinarySpecs : [...kubeBinarySpecs, ...controllerSpecs];
  for (const spec of specs) {
    const built = await ensureBinary(spec, { log, verbose: values.verbose, force: values.force });
    console.log(built.path);
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return 0;
}

/** One update per consumer module; the other binaries of the same module stay its tools. */
async function updateKubeModules(log: (line: string) => void, verbose: boolean): Promise<void> {
  const byDir = new Map<string, GoBinarySpec[]>();
  for (const spec of kubeBinarySpecs) byDir.set(spec.moduleDir, [...(byDir.get(spec.moduleDir) ?? []), spec]);
  for (const [first, ...others] of byDir.values()) {
    if (!first) continue;
    const version = await updateConsumerModule(first, { log, verbose, alsoTools: others.map((s) => s.mainPackage) });
    log(`${first.moduleDir}: now pins ${first.module} ${version}`);
  }
}
