/**
 * What every command does with a mistake in how it was called: one line naming it (and the
 * usage when that helps) on stderr, exit 2. Anything else is the command's own business.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { EnvMap } from "../proxmox/index.js";

/** What a command reads and writes: the environment and the two streams (a terminal or not). */
export interface CliIo {
  readonly env: EnvMap;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** A mistake in the command line, the config or a missing input: exit 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  /** Print the command's usage after the message. */
  readonly showUsage: boolean;

  constructor(message: string, options: { readonly cause?: unknown; readonly showUsage?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.showUsage = options.showUsage ?? false;
  }
}

/** Runs `main`: its exit code, or 2 after `<name>: <message>` for a UsageError. */
export async function runCommand(name: string, usage: string, stderr: { write(text: string): unknown }, main: () => Promise<number>): Promise<number> {
  try {
    return await main();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr.write(`${name}: ${error.message}\n${error.showUsage ? `${usage}\n` : ""}`);
    return 2;
  }
}

/** Runs `step`; a UsageError from it also shows the usage (a mistake in the command line itself). */
export function withUsage<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(error.message, { cause: error, showUsage: true });
    throw error;
  }
}

/** Node's `parseArgs` (strict unless the config says otherwise); a mistake in it is a UsageError that keeps its cause. */
export function parseCommandLine<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (cause) {
    throw new UsageError((cause as Error).message, { cause });
  }
}
