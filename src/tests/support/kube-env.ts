/**
 * Test harness for the real-API-server tier: one etcd + kube-apiserver per test file
 * (src/kube/env), with the product's CRDs, stopped in afterAll and on SIGINT/SIGTERM.
 *
 * The tier runs wherever the binaries are cached or can be built (a Go toolchain on PATH;
 * the first file then builds them, which takes long: `npm run kube:binaries` does it ahead).
 * Only where neither holds are the tests skipped, with a loud message saying why.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe } from "vitest";
import { cachedKubeBinaries, ensureKubeBinaries, startKubeEnv, stopAllKubeEnvsSync, type KubeEnv, type KubeEnvOptions } from "../../kube/env/index.js";

export interface KubeTierAvailability {
  readonly available: boolean;
  /** Why the tier is skipped (when not available), or how the binaries will be obtained. */
  readonly note: string;
}

function checkAvailability(): KubeTierAvailability {
  const cached = cachedKubeBinaries();
  if (!("missing" in cached)) return { available: true, note: `cached: ${cached.kubeApiserver.path}, ${cached.etcd.path}` };
  const go = spawnSync("go", ["version"], { encoding: "utf8" });
  if (go.status === 0) return { available: true, note: `${cached.missing}; building it now with ${go.stdout.trim()}` };
  return {
    available: false,
    note: `${cached.missing}, and there is no Go toolchain to build it (${go.error?.message ?? go.stderr.trim()}). Install Go ≥ 1.26 and run \`npm run kube:binaries\`.`,
  };
}

export const kubeTier: KubeTierAvailability = checkAvailability();

if (!kubeTier.available) {
  const line = "!".repeat(100);
  console.warn(`\n${line}\n!! REAL KUBE-APISERVER TESTS SKIPPED: ${kubeTier.note}\n${line}\n`);
}

/** `describe` for tests that need the real API server: skipped (loudly) only where it cannot exist. */
export const describeKube: typeof describe = kubeTier.available
  ? describe
  : (describe.skip as unknown as typeof describe);

/** Building the binaries cold takes tens of minutes on a busy 2-core machine. */
const setupTimeoutMs = 90 * 60 * 1000;

let signalHandlersInstalled = false;

/** On SIGINT/SIGTERM: kill the servers, remove temp folders, then let the signal do its usual work. */
export function installSignalHandlers(): void {
  if (signalHandlersInstalled) return;
  signalHandlersInstalled = true;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const handler = (): void => {
      stopAllKubeEnvsSync();
      process.removeListener(signal, handler);
      // If nobody else handles it, re-raise so the process ends as the signal intends.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

/**
 * Starts an environment before the file's tests and stops it after them (also when they
 * fail). Returns an accessor, valid inside tests and hooks.
 */
export function useKubeEnv(options: Omit<KubeEnvOptions, "binaries"> = {}): () => KubeEnv {
  let env: KubeEnv | undefined;
  beforeAll(async () => {
    installSignalHandlers();
    const binaries = await ensureKubeBinaries({ log: (line) => console.log(`[kube-env] ${line}`) });
    env = await startKubeEnv({ crdsForProfile: "cozystack-v0.37", ...options, binaries });
  }, setupTimeoutMs);
  afterAll(async () => {
    await env?.stop();
    env = undefined;
  });
  return () => {
    if (!env) throw new Error("the kube environment is not running (beforeAll failed or has not run)");
    return env;
  };
}
