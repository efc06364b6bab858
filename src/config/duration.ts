/**
 * Durations as platform.yaml and the app chart take them for MachineHealthCheck timeouts:
 * Go's `time.Duration` text in whole hours, minutes and seconds (5m, 90s, 1h30m), which is
 * what CAPI prints back.
 */

const form = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Seconds of `text`, or undefined when it is not such a duration. */
export function durationSeconds(text: string): number | undefined {
  const m = form.exec(text);
  if (!m || text === "") return undefined;
  const [h, min, s] = [m[1], m[2], m[3]].map((part) => Number(part ?? 0)) as [number, number, number];
  return h * 3600 + min * 60 + s;
}

/**
 * CAPI's MachineHealthCheck webhook refuses a `nodeStartupTimeout` under 30 s other than 0
 * (0 turns the check off): the problem with `text`, or undefined when CAPI takes it.
 */
export function nodeStartupTimeoutProblem(text: string): string | undefined {
  const seconds = durationSeconds(text);
  if (seconds === undefined) return "must be a duration like 20m, 90s or 1h30m";
  if (seconds !== 0 && seconds < 30) return "must be 0 (no startup check) or at least 30s: Cluster API refuses shorter";
  return undefined;
}
