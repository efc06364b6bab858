/**
 * The system charts of CozyStack v0.37.10 (`packages/system/*`), read from
 * shared/reference/cozystack-v0.37.10/system-charts.tsv: directory, chart name and whether
 * paas-full runs it in a privileged namespace.
 */
import { readFileSync } from "node:fs";
import { referencePath } from "../paths.js";

export interface SystemChart {
  /** Directory under `packages/system/`. */
  readonly dir: string;
  /** `name:` of its Chart.yaml. */
  readonly chart: string;
  /** paas-full marks its release privileged (its pods need a privileged namespace). */
  readonly privileged: boolean;
}

/** Parses the TSV text; the header row names the columns. */
export function parseSystemCharts(tsv: string): SystemChart[] {
  const [header, ...rows] = tsv.split("\n").filter((l) => l.trim() !== "");
  const columns = (header ?? "").split("\t");
  const col = (name: string): number => {
    const i = columns.indexOf(name);
    if (i < 0) throw new Error(`system-charts.tsv: no column ${JSON.stringify(name)} in header ${JSON.stringify(header)}`);
    return i;
  };
  const dir = col("dir");
  const chart = col("chart_name");
  const privileged = col("privileged");
  return rows.map((row) => {
    const cells = row.split("\t");
    return { dir: cells[dir] ?? "", chart: cells[chart] ?? "", privileged: cells[privileged] === "true" };
  });
}

/** Path of the reference table. */
export const systemChartsPath = (): string => referencePath("cozystack-v0.37.10", "system-charts.tsv");

/** CozyStack v0.37.10's system charts, from the reference table. */
export function loadSystemCharts(): SystemChart[] {
  return parseSystemCharts(readFileSync(systemChartsPath(), "utf8"));
}
