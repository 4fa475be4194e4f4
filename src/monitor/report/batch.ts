/**
 * Batch drift report: two files (CSV or JSON Lines) compared column by column with detectDrift, and
 * optionally written as a self-contained HTML report. The reference file decides the columns and their
 * kinds; the current file must match it (errors name the file, line and column).
 */
import { writeFileAtomic } from '../../core/atomic.js';
import { ModelautoError } from '../../core/errors.js';
import { listNames } from '../../data/values.js';
import { detectDrift } from '../drift/detect.js';
import { parseDriftOptions, type DriftOptionsInput } from '../drift/options.js';
import type { DriftReport } from '../types.js';
import { renderDriftHtml } from './html.js';
import { loadCurrentTable, loadReferenceTable, type TableFormat, type TableReadOptions } from './load.js';

export interface DriftReportInput {
  /** Reference file (the training data, or an earlier period). */
  reference: string;
  /** File to compare with it. */
  current: string;
  /** Format of both files; default from each file's extension. */
  format?: TableFormat;
  /** Drift options (methods, thresholds, correction, include/skip, ...); `skip` also drops the columns on load. */
  options?: DriftOptionsInput;
  /** Write the HTML report here (atomically). */
  out?: string;
  /** Reading: delimiter, columns forced numeric/categorical, missing-value markers. */
  read?: Omit<TableReadOptions, 'format' | 'skip'>;
  /** Title of the HTML report. */
  title?: string;
}

export interface DriftReportResult {
  report: DriftReport;
  reference: { file: string; format: TableFormat; rows: number; columns: number };
  current: { file: string; format: TableFormat; rows: number; columns: number };
  /** The HTML file written, when `out` was given. */
  html?: string;
}

/** Compares two files and returns the drift report (and writes the HTML report when asked). */
export async function runDriftReport(input: DriftReportInput): Promise<DriftReportResult> {
  const options = parseDriftOptions(input.options ?? {});
  const skip = options.skip;
  const read: TableReadOptions = {
    ...(input.read ?? {}),
    skip,
    ...(input.format ? { format: input.format } : {}),
  };
  const reference = await loadReferenceTable(input.reference, read);
  const current = await loadCurrentTable(input.current, reference, read);
  const unknown = skip.filter((c) => !reference.header.includes(c) && !current.header.includes(c));
  if (unknown.length > 0) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `skip: column(s) ${listNames(unknown)} are in neither file; the reference's columns are: ${listNames(reference.header)}`,
    );
  }
  // skipped columns were dropped on load; detectDrift sees only what is compared
  const report = detectDrift(reference.data, current.data, { ...options, skip: [] });
  let html: string | undefined;
  if (input.out) {
    writeFileAtomic(
      input.out,
      renderDriftHtml(report, {
        ...(input.title ? { title: input.title } : {}),
        referenceName: input.reference,
        currentName: input.current,
        driftShareThreshold: options.driftShare,
      }),
    );
    html = input.out;
  }
  return {
    report,
    reference: {
      file: input.reference,
      format: reference.format,
      rows: reference.data.rows,
      columns: reference.kinds.size,
    },
    current: {
      file: input.current,
      format: current.format,
      rows: current.data.rows,
      columns: current.kinds.size,
    },
    ...(html ? { html } : {}),
  };
}
