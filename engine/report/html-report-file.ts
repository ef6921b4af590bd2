import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunResult } from '../schema/result.ts';
import { renderHtmlReport, type HtmlReportOptions } from './html-report.ts';

/** Write `report.html` into the output directory (artifact paths in the result are relative to it). Returns its path. */
export async function writeHtmlReport(outDir: string, result: RunResult, options: HtmlReportOptions = {}): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, 'report.html');
  await writeFile(path, renderHtmlReport(result, options));
  return path;
}
