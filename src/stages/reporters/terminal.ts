/**
 * The terminal reporter: live progress while checks run, then a table of every check with
 * its verdict, duration and reason.
 *
 * In a TTY it redraws one status line (spinner, running check, elapsed time). When the
 * output is not a TTY or `CI` is set it prints one plain line per finished check instead.
 * Colour is off when `NO_COLOR` is set or the output is not a TTY (the CLI decides).
 */
import type { CheckResult, RunResult, StageResult } from "../model.js";
import { tally } from "../model.js";
import type { RunEvent, RunListener } from "../runner.js";
import { formatDuration } from "../timeouts.js";

export interface TerminalOptions {
  /** Where to write (stderr for progress keeps stdout clean for the table). */
  readonly stream: { write(chunk: string): unknown };
  /** Redraw a live status line. False: one line per finished check. */
  readonly live: boolean;
  readonly color: boolean;
  /** Redraw period of the live line. @default 100 */
  readonly refreshMs?: number;
}

const codes = { red: 31, green: 32, yellow: 33, gray: 90, bold: 1 } as const;
type Paint = (style: keyof typeof codes, text: string) => string;

export function painter(color: boolean): Paint {
  return (style, text) => (color ? `\u001b[${codes[style]}m${text}\u001b[0m` : text);
}

const MARK = { passed: "PASS", warning: "WARN", failed: "FAIL", skipped: "SKIP" } as const;
const STYLE = { passed: "green", warning: "yellow", failed: "red", skipped: "gray" } as const;

function stageLabel(stage: number | string, title: string): string {
  return typeof stage === "number" ? `Stage ${stage}: ${title}` : `${stage}: ${title}`;
}

/** A listener that shows progress; call `close()` when the run ends (stops the redraw timer). */
export function createProgress(options: TerminalOptions): RunListener & { close(): void } {
  const paint = painter(options.color);
  const frames = ["|", "/", "-", "\\"];
  let timer: NodeJS.Timeout | undefined;
  let current: { id: string; title: string; start: number } | undefined;
  let frame = 0;

  const clearLine = (): void => {
    if (options.live) options.stream.write("\r\u001b[2K");
  };
  const draw = (): void => {
    if (!current) return;
    frame = (frame + 1) % frames.length;
    const elapsed = formatDuration(performance.now() - current.start);
    clearLine();
    options.stream.write(`${frames[frame]} ${current.title} ${paint("gray", `(${current.id}, ${elapsed})`)}`);
  };
  const stop = (): void => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };

  const listener = (event: RunEvent): void => {
    switch (event.type) {
      case "stage-start":
        options.stream.write(`${paint("bold", stageLabel(event.stage, event.title))} (${event.checks} checks)\n`);
        break;
      case "check-start":
        current = { id: event.id, title: event.title, start: performance.now() };
        if (options.live) {
          draw();
          timer ??= setInterval(draw, options.refreshMs ?? 100);
          timer.unref?.();
        }
        break;
      case "check-end": {
        current = undefined;
        stop();
        clearLine();
        const r = event.result;
        const why = r.verdict === "passed" ? "" : ` - ${r.reason ?? ""}`;
        options.stream.write(
          `  ${paint(STYLE[r.verdict], MARK[r.verdict])} ${r.title} ${paint("gray", `(${r.id}, ${formatDuration(r.durationMs)})`)}${why}\n`,
        );
        break;
      }
      case "stage-end":
        break;
    }
  };
  return Object.assign(listener, { close: stop });
}

function wrap(text: string, width: number, indent: string): string[] {
  const out: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(" ")) {
      if (line && line.length + word.length + 1 > width) {
        out.push(indent + line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    out.push(indent + line);
  }
  return out;
}

function checkRows(check: CheckResult, paint: Paint, idWidth: number, width: number): string[] {
  const verdict = paint(STYLE[check.verdict], MARK[check.verdict]);
  const rows = [`  ${verdict}  ${check.id.padEnd(idWidth)}  ${formatDuration(check.durationMs).padStart(9)}  ${check.title}`];
  const indent = " ".repeat(8);
  const room = Math.max(40, width - indent.length);
  if (check.verdict === "failed") {
    rows.push(...wrap(`Problem: ${check.reason ?? ""}`, room, indent));
    rows.push(...wrap(`Fix: ${check.fix ?? ""}`, room, indent));
  } else if (check.verdict === "warning") {
    if (check.detail) rows.push(...wrap(check.detail, room, indent).map((l) => paint("gray", l)));
    rows.push(...wrap(`Warning: ${check.reason ?? ""}`, room, indent));
    rows.push(...wrap(`Fix: ${check.fix ?? ""}`, room, indent));
  } else if (check.verdict === "skipped") {
    rows.push(...wrap(`Skipped: ${check.reason ?? ""}`, room, indent));
  } else if (check.detail) {
    rows.push(...wrap(check.detail, room, indent).map((l) => paint("gray", l)));
  }
  return rows;
}

/** Timings only (the JSON and JUnit reports carry every figure). */
function figureText(stage: StageResult): string {
  const entries = Object.entries(stage.figures).filter(([k]) => k.endsWith("Ms"));
  return entries.length === 0 ? "" : `  measured: ${entries.map(([k, v]) => `${k}=${v}`).join(", ")}`;
}

/** The end-of-run table: every check with verdict, duration, and reason or detail; then totals. */
export function renderTable(run: RunResult, options: { color: boolean; width?: number }): string {
  const paint = painter(options.color);
  const width = options.width ?? 100;
  const lines: string[] = [];
  for (const stage of run.stages) {
    lines.push(paint("bold", stageLabel(stage.stage, stage.title)));
    if (stage.verdict === "not-run") {
      lines.push(`  ${paint("yellow", "NOT RUN")}  ${stage.reason ?? ""}`, "");
      continue;
    }
    const idWidth = Math.max(...stage.checks.map((c) => c.id.length), 5);
    for (const check of stage.checks) lines.push(...checkRows(check, paint, idWidth, width));
    const counts = tally(stage.checks);
    const verdict = paint(stage.verdict === "passed" ? "green" : "red", stage.verdict.toUpperCase());
    lines.push(
      `  => ${verdict}: ${counts.passed} passed, ${counts.warning} warnings, ${counts.failed} failed, ${counts.skipped} skipped in ${formatDuration(stage.durationMs)}`,
    );
    const figures = figureText(stage);
    if (figures) lines.push(...wrap(figures.trim(), width - 2, "  "));
    lines.push("");
  }
  const notRun = run.stages.filter((s) => s.verdict === "not-run").map((s) => s.stage);
  if (notRun.length > 0) lines.push(paint("yellow", `Not run (not counted as passed): stage ${notRun.join(", ")}`));
  const ran = run.stages.filter((s) => s.verdict === "passed" || s.verdict === "failed").map((s) => s.stage);
  const scope = notRun.length > 0 ? ` of stage ${ran.join(", ")}` : "";
  const warnings = run.stages.reduce((n, s) => n + tally(s.checks).warning, 0);
  const warned = warnings === 0 ? "" : ` (${warnings} ${warnings === 1 ? "warning" : "warnings"}: a reduced guarantee, see WARN above)`;
  lines.push(
    run.ok
      ? paint(warnings === 0 ? "green" : "yellow", `Result: all checks${scope} passed${warned}`)
      : paint("red", run.interrupted ? "Result: INTERRUPTED (incomplete, not passed)" : "Result: FAILED"),
  );
  return `${lines.join("\n")}\n`;
}
