/** Writes report files whole or not at all. */
import { join } from "node:path";
import { writeFileAtomic } from "../../files/index.js";
import type { RunResult } from "../model.js";
import { renderJson } from "./json.js";
import { renderJunit } from "./junit.js";

export type ReportFormat = "json" | "junit";

/** File name of each report inside the report directory. */
export function reportFileName(format: ReportFormat, base: string): string {
  return format === "json" ? `${base}.json` : `${base}.junit.xml`;
}

/** Writes the requested reports into `dir`; returns the paths written. */
export async function writeReports(
  run: RunResult,
  dir: string,
  formats: readonly ReportFormat[],
  base = "stages",
): Promise<string[]> {
  const written: string[] = [];
  for (const format of formats) {
    const path = join(dir, reportFileName(format, base));
    await writeFileAtomic(path, format === "json" ? renderJson(run) : renderJunit(run));
    written.push(path);
  }
  return written;
}
