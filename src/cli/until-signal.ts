/**
 * For commands that run servers until the user stops them (`kube:up`, `mgmt:up`): a signal
 * while starting kills what exists so far, synchronously; once running, the command waits
 * for Ctrl-C/SIGTERM or for a server to exit on its own.
 */
import { stopAllKubeEnvsSync } from "../kube/env/index.js";

/** While starting: SIGINT/SIGTERM kill every server at once and end with 130. Returns the undo. */
export function killOnSignalWhileStarting(): () => void {
  const early = (): void => {
    stopAllKubeEnvsSync();
    process.exit(130);
  };
  process.once("SIGINT", early);
  process.once("SIGTERM", early);
  return () => {
    process.removeListener("SIGINT", early);
    process.removeListener("SIGTERM", early);
  };
}

export type RunOutcome = { readonly signal: string } | { readonly name: string; readonly code: number | null };

/** Waits for Ctrl-C/SIGTERM or for `exited` (a server that ended on its own). */
export async function untilSignalOrExit(exited: Promise<{ readonly name: string; readonly code: number | null }>): Promise<RunOutcome> {
  // Signal listeners do not keep Node alive; this timer does, until we are done.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    return await new Promise<RunOutcome>((done) => {
      process.once("SIGINT", () => done({ signal: "SIGINT" }));
      process.once("SIGTERM", () => done({ signal: "SIGTERM" }));
      void exited.then(done);
    });
  } finally {
    clearInterval(keepAlive);
  }
}
