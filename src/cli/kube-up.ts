/**
 * `npm run kube:up -- --kubeconfig <file> [--profile <name>] [--no-crds]`: a real
 * kube-apiserver + etcd on 127.0.0.1 for a person, with the product's CRDs, until Ctrl-C or
 * SIGTERM; then both servers stop and the temp folder and the kubeconfig file are removed.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ensureKubeBinaries, startKubeEnv } from "../kube/env/index.js";
import { killOnSignalWhileStarting, untilSignalOrExit } from "./until-signal.js";

export async function kubeUpMain(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      kubeconfig: { type: "string" },
      profile: { type: "string", default: "cozystack-v0.37" },
      "no-crds": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help || !values.kubeconfig) {
    console.error("usage: npm run kube:up -- --kubeconfig <file> [--profile cozystack-v0.37|upstream] [--no-crds]");
    return values.help ? 0 : 2;
  }
  const kubeconfigPath = resolve(values.kubeconfig);
  const log = (line: string): void => console.log(line);
  const binaries = await ensureKubeBinaries({ log });
  // A signal while starting: kill what exists so far, then end.
  const starting = killOnSignalWhileStarting();
  const env = await startKubeEnv({
    binaries,
    kubeconfigPath,
    crdsForProfile: values["no-crds"] ? undefined : values.profile,
    log,
  });
  starting();
  log(`kubeconfig: ${kubeconfigPath}  (try: kubectl --kubeconfig ${kubeconfigPath} get crds)`);
  log("running; Ctrl-C or SIGTERM stops it and removes the kubeconfig");
  const outcome = await untilSignalOrExit(env.exited);
  await env.stop();
  if ("signal" in outcome) {
    log(`${outcome.signal}: stopped kube-apiserver and etcd, removed ${env.dir} and ${kubeconfigPath}`);
    return 0;
  }
  console.error(`${outcome.name} exited unexpectedly (code ${outcome.code}); environment stopped`);
  return 1;
}
