/**
 * `npm run kube:binaries [-- --update] [--force] [--verbose]`: builds (or reuses) the real
 * kube-apiserver and etcd under .cache/kube/<version>/ and .cache/etcd/<version>/.
 * `--update` first moves tools/kube and tools/etcd to the newest patch of their lines.
 */
import { parseArgs } from "node:util";
import { ensureBinary, kubeBinarySpecs, updateConsumerModule } from "../kube/index.js";

export async function kubeBinariesMain(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      update: { type: "boolean", default: false },
      force: { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log("usage: npm run kube:binaries -- [--update] [--force] [--verbose]");
    return 0;
  }
  const log = (line: string): void => console.log(line);
  const started = Date.now();
  for (const spec of kubeBinarySpecs) {
    if (values.update) {
      const version = await updateConsumerModule(spec, { log, verbose: values.verbose });
      log(`${spec.moduleDir}: now pins ${spec.module} ${version}`);
    }
    const built = await ensureBinary(spec, { log, verbose: values.verbose, force: values.force });
    console.log(built.path);
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return 0;
}
