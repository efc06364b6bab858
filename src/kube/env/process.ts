/**
 * A server process (etcd, kube-apiserver) that cannot outlive us.
 *
 * Each server runs under a tiny POSIX-sh watchdog in its own process group. The watchdog
 * holds the read end of a pipe whose write end only this Node process holds: when we close
 * it (stop) or die in any way (even SIGKILL, when no handler can run), the watchdog reads
 * EOF, stops the server (TERM, then KILL after a short grace period) and removes the given
 * folder. The watcher outlives a server that exits on its own until that EOF, so the
 * folder goes away in every case. `killSync` covers 'exit' and signal handlers, where
 * nothing async can run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";

const watchdog = `
cleanup_dir="$1"; grace="$2"; shift 2
exec 3<&0 </dev/null
"$@" &
child=$!
(
  trap '' INT TERM
  while read -r _ <&3; do :; done
  # Only while the main shell lives has it not reaped the server, so the pid is still ours.
  if kill -0 "$$" 2>/dev/null && kill -TERM "$child" 2>/dev/null; then
    i=0
    while kill -0 "$child" 2>/dev/null && [ "$i" -lt "$grace" ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$child" 2>/dev/null
  fi
  [ -n "$cleanup_dir" ] && rm -rf -- "$cleanup_dir"
) &
wait "$child"
`;

/**
 * Time a server gets between TERM and KILL. Short on purpose: every server here is thrown
 * away with its folder (etcd runs without fsync), so a graceful shutdown protects nothing,
 * and controllers otherwise wait out controller-runtime's 30 s for their workers.
 */
export const defaultGraceMs = 1_000;

export interface ServerProcessOptions {
  /** Short name for messages (`etcd`, `kube-apiserver`). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** File that receives the server's stdout and stderr. */
  readonly logFile: string;
  /** Folder the watchdog removes after the server died because we went away. */
  readonly cleanupDir?: string;
  /** Time the server gets between TERM and KILL. @default defaultGraceMs */
  readonly graceMs?: number;
  /** Environment changes: a value sets the variable, `undefined` removes it. @default this process's environment */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

function childEnv(changes: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export class ServerProcess {
  readonly name: string;
  readonly logFile: string;
  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly graceMs: number;
  private exitCode: number | null | undefined;

  constructor(options: ServerProcessOptions) {
    this.name = options.name;
    this.logFile = options.logFile;
    const log = openSync(options.logFile, "a");
    this.graceMs = options.graceMs ?? defaultGraceMs;
    const graceTenths = String(Math.ceil(this.graceMs / 100));
    try {
      this.child = spawn("/bin/sh", ["-c", watchdog, "watchdog", options.cleanupDir ?? "", graceTenths, options.command, ...options.args], {
        detached: true,
        stdio: ["pipe", log, log],
        env: childEnv(options.env),
      });
    } finally {
      closeSync(log);
    }
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code) => {
        this.exitCode = code;
        resolve(code);
      });
      this.child.once("error", () => {
        this.exitCode = null;
        resolve(null);
      });
    });
    // Do not let a pending server keep the event loop (and so a CLI) alive on its own.
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }

  /** Process id of the watchdog, which is also the id of the process group. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** The last lines of the server's log, for error messages. */
  logTail(lines = 25): string {
    try {
      return readFileSync(this.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** Stops the server and waits for it; KILLs the whole group if it lingers past the watchdog's kill. */
  async stop(timeoutMs = this.graceMs + 2_000): Promise<void> {
    if (!this.running) return;
    this.child.stdin?.destroy();
    // A referenced timer: it also keeps Node alive until the server is really gone.
    let timeout: NodeJS.Timeout | undefined;
    const timer = new Promise<"late">((resolve) => (timeout = setTimeout(() => resolve("late"), timeoutMs)));
    if ((await Promise.race([this.exited, timer])) === "late") {
      this.killSync();
      await this.exited;
    }
    clearTimeout(timeout);
  }

  /** SIGKILL to the whole process group, synchronously. */
  killSync(): void {
    const pid = this.child.pid;
    if (!this.running || pid === undefined) return;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
