/** Writes report files whole or not at all: a temp file beside the target, then a rename. */
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { RunResult } from "../model.js";
import { renderJson } from "./json.js";
import { renderJunit } from "./junit.js";

export type ReportFormat = "json" | "junit";

export async function writeFileAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temp, content, "utf8");
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw new Error(`cannot write report ${path}`, { cause: error });
  }
}

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
