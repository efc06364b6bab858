/**
 * What `test-stage` and `vm-test` share: loading the config, applying the PROXMOX_*
 * overrides, the timeouts table, building the client, the terminal style, and turning
 * Ctrl-C / SIGTERM into an AbortSignal (a second signal forces the exit).
 */
import { readFileSync } from "node:fs";
import { ConfigError, loadConfig, type PlatformConfig } from "../config/index.js";
import { createProxmoxClient, ProxmoxConfigError, type EnvMap, type HttpProxmoxApi } from "../proxmox/index.js";
import { UsageError } from "./command.js";
import { ConnectionError, resolveConnection, resolveTimeouts, TimeoutConfigError, type Connection, type Timeouts } from "../stages/index.js";

// A mistake in the command line, the config or the connection settings: exit code 2.
export { UsageError };

export interface Session {
  readonly config: PlatformConfig;
  readonly connection: Connection;
  readonly timeouts: Timeouts;
  readonly api: HttpProxmoxApi;
  /** Strings reports must never contain. */
  readonly secrets: readonly string[];
  /** One line for the run header (never the secret). */
  readonly summary: string;
}

/** Loads everything a Proxmox command needs; throws UsageError for bad input. */
export async function openSession(configFile: string | undefined, env: EnvMap): Promise<Session> {
  try {
    const loaded = await loadConfig(configFile === undefined ? {} : { file: configFile });
    const timeouts = resolveTimeouts(loaded.stages?.timeouts ?? {});
    const connection = resolveConnection(loaded, env, (path) => readFileSync(path, "utf8"));
    const api = createProxmoxClient({
      url: connection.url,
      tokenId: connection.tokenId,
      secret: connection.secret,
      tls: connection.tls,
      timeoutMs: timeouts["api.request"],
    });
    const tlsText = connection.tls.insecure ? "TLS unverified (insecure)" : connection.tls.fingerprint ? "TLS pinned" : connection.tls.caFile ? `TLS CA ${connection.tls.caFile}` : "TLS system CAs";
    const summary =
      `Proxmox ${connection.url} as ${connection.tokenId}, ${tlsText}; config: ${configFile ?? "built-in default"}` +
      (connection.overrides.length > 0 ? `; from the environment: ${connection.overrides.join(", ")}` : "");
    return { config: connection.config, connection, timeouts, api, secrets: [connection.secret], summary };
  } catch (error) {
    if (error instanceof ConfigError || error instanceof ConnectionError || error instanceof TimeoutConfigError || error instanceof ProxmoxConfigError) {
      throw new UsageError(error.message, { cause: error });
    }
    if (error instanceof RangeError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/** Live redraws only on a terminal outside CI; colour only on a terminal without NO_COLOR. */
export function outputStyle(env: EnvMap, isTTY: boolean): { live: boolean; color: boolean } {
  const ci = Boolean(env.CI && env.CI !== "false" && env.CI !== "0");
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  return { live: isTTY && !ci, color: isTTY && !noColor };
}

/**
 * Aborts `controller` on the first SIGINT/SIGTERM (cleanup then runs); calls `force` on the
 * second. Returns the function that removes the handlers.
 */
export function abortOnSignals(controller: AbortController, onFirst: (signal: string) => void, force: (signal: string) => void): () => void {
  let seen = 0;
  const handler = (signal: NodeJS.Signals): void => {
    seen += 1;
    if (seen === 1) {
      onFirst(signal);
      controller.abort(new Error(`${signal} received`));
    } else {
      force(signal);
    }
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}
