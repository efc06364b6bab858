/**
 * Labs in a child process (lab-child.ts), for tests that measure their memory or must notice
 * them die: their addresses and tokens, the process's peak RSS on request, and whether it runs.
 */
import { execa, type ResultPromise } from "execa";
import { createInterface } from "node:readline";
import type { LabLimits, LabToken } from "../../../lab/index.js";
import { repoRoot } from "../../../paths.js";

export interface LabMemory {
  /** High-water mark of the resident set since the process started, in bytes. */
  readonly peakRss: number;
  readonly rss: number;
}

/** One lab of the process. */
export interface RemoteLab {
  readonly url: string;
  readonly caPem?: string;
  readonly tokens: { readonly admin: LabToken; readonly readonly: LabToken };
}

export interface LabProcess {
  /** The labs, in the order of `schemes`. */
  readonly labs: readonly RemoteLab[];
  memory(): Promise<LabMemory>;
  /** How the process ended, with the end of its stderr; undefined while it runs. */
  exited(): { code: number | null; signal: string | null; stderr: string } | undefined;
  stop(): Promise<void>;
}

const childOptions = { cwd: repoRoot, reject: false, timeout: 600_000, stdin: "pipe", buffer: false } as const;

/** Starts the process and waits until its labs listen. */
export async function startLabProcess(options: { schemes?: Array<"http" | "https">; limits?: Partial<LabLimits> } = {}): Promise<LabProcess> {
  const child: ResultPromise<typeof childOptions> = execa(
    process.execPath,
    ["--import", "tsx", "src/tests/integration/lab/lab-child.ts", JSON.stringify(options)],
    childOptions,
  );
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
  let exit: { code: number | null; signal: string | null } | undefined;
  child.on("exit", (code, signal) => (exit = { code, signal }));
  void child.catch(() => undefined);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<unknown> => {
    const line = await lines.next();
    if (line.done) throw new Error(`the lab process ended: ${stderr}`);
    return JSON.parse(line.value as string);
  };
  const stop = async (): Promise<void> => {
    child.stdin.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await child;
    clearTimeout(timer);
  };
  try {
    const first = (await next()) as { labs: RemoteLab[] };
    return {
      labs: first.labs,
      async memory(): Promise<LabMemory> {
        child.stdin.write("mem\n");
        return (await next()) as LabMemory;
      },
      exited: () => (exit ? { ...exit, stderr } : undefined),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
