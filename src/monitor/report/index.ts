/** Batch drift reports: two files compared, a table of results and a self-contained HTML report. */
export { runDriftReport, type DriftReportInput, type DriftReportResult } from './batch.js';
export { renderDriftHtml, histogramSvg, escapeHtml, type HtmlReportOptions } from './html.js';
export {
  loadReferenceTable,
  loadCurrentTable,
  formatOf,
  type LoadedTable,
  type TableFormat,
  type TableReadOptions,
} from './load.js';
