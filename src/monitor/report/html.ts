/**
 * A drift report as one self-contained HTML file: inline CSS, one inline SVG per column with the reference
 * and current distributions side by side (as shares, so samples of different sizes compare), no scripts
 * and no external assets. Every value from the data (column names, categories, file names) is escaped.
 */
import type { DriftHistogram, DriftReport, FeatureDrift } from '../types.js';

export interface HtmlReportOptions {
  title?: string;
  referenceName?: string;
  currentName?: string;
  /** The dataset drift threshold on the drifted share, shown with the verdict. */
  driftShareThreshold?: number;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** Compact number for tables and axis labels. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-4 || a >= 1e6) return v.toExponential(2);
  if (Number.isInteger(v)) return String(v);
  return a >= 100 ? v.toFixed(1) : v.toPrecision(4).replace(/0+$/, '').replace(/\.$/, '');
}

const W = 520;
const H = 180;
const PAD = { left: 40, right: 10, top: 24, bottom: 42 };
const REF_COLOR = '#4c78a8';
const CUR_COLOR = '#f58518';

function shares(h: DriftHistogram): number[] {
  const total = h.counts.reduce((s, v) => s + v, 0);
  return h.counts.map((c) => (total > 0 ? c / total : 0));
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Grouped bars: reference and current share per bin (numeric) or per category. */
export function histogramSvg(f: FeatureDrift): string {
  const ref = shares(f.reference);
  const cur = shares(f.current);
  const k = ref.length;
  const max = Math.max(1e-12, ...ref, ...cur);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const group = plotW / Math.max(1, k);
  const bar = Math.max(1, (group * 0.8) / 2);
  const y = (v: number): number => PAD.top + plotH - (v / max) * plotH;
  const parts: string[] = [];
  const labels = f.reference.labels;
  const edges = f.reference.edges;
  for (let i = 0; i < k; i++) {
    const x0 = PAD.left + i * group + group * 0.1;
    const name = labels
      ? (labels[i] ?? '')
      : edges
        ? `[${formatNumber(edges[i])}, ${formatNumber(edges[i + 1])}${i === k - 1 ? ']' : ')'}`
        : String(i);
    const tip = escapeHtml(
      `${name}: reference ${(100 * (ref[i] as number)).toFixed(1)}% (${f.reference.counts[i]}), current ${(100 * (cur[i] as number)).toFixed(1)}% (${f.current.counts[i]})`,
    );
    parts.push(
      `<g><title>${tip}</title>` +
        `<rect x="${x0.toFixed(1)}" y="${y(ref[i] as number).toFixed(1)}" width="${bar.toFixed(1)}" height="${(PAD.top + plotH - y(ref[i] as number)).toFixed(1)}" fill="${REF_COLOR}"/>` +
        `<rect x="${(x0 + bar).toFixed(1)}" y="${y(cur[i] as number).toFixed(1)}" width="${bar.toFixed(1)}" height="${(PAD.top + plotH - y(cur[i] as number)).toFixed(1)}" fill="${CUR_COLOR}"/></g>`,
    );
    if (labels && k <= 30) {
      const lx = x0 + bar;
      parts.push(
        `<text x="${lx.toFixed(1)}" y="${H - PAD.bottom + 12}" font-size="10" text-anchor="end" transform="rotate(-35 ${lx.toFixed(1)} ${H - PAD.bottom + 12})">${escapeHtml(truncate(name, 14))}</text>`,
      );
    }
  }
  if (edges && edges.length > 1) {
    const first = formatNumber(edges[0]);
    const last = formatNumber(edges[edges.length - 1]);
    parts.push(`<text x="${PAD.left}" y="${H - PAD.bottom + 14}" font-size="10">${escapeHtml(first)}</text>`);
    parts.push(
      `<text x="${W - PAD.right}" y="${H - PAD.bottom + 14}" font-size="10" text-anchor="end">${escapeHtml(last)}</text>`,
    );
  }
  const axis =
    `<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}" stroke="#888"/>` +
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${PAD.top + plotH}" stroke="#888"/>` +
    `<text x="${PAD.left - 4}" y="${PAD.top + 8}" font-size="10" text-anchor="end">${(100 * max).toFixed(0)}%</text>` +
    `<text x="${PAD.left - 4}" y="${PAD.top + plotH}" font-size="10" text-anchor="end">0</text>`;
  const legend =
    // above the plot area, so no bar can run under it
    `<rect x="${W - 170}" y="4" width="10" height="10" fill="${REF_COLOR}"/><text x="${W - 156}" y="13" font-size="11">reference</text>` +
    `<rect x="${W - 90}" y="4" width="10" height="10" fill="${CUR_COLOR}"/><text x="${W - 76}" y="13" font-size="11">current</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(`${f.feature}: reference vs current`)}">${axis}${parts.join('')}${legend}</svg>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}h3{font-size:15px;margin:0 0 4px}
.meta{color:#555;margin:0 0 12px}.verdict{padding:10px 14px;border-radius:6px;font-weight:600;margin:12px 0}
.drift{background:#fde8e6;border:1px solid #e0a39b}.nodrift{background:#e7f4ea;border:1px solid #9fcfab}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:4px 8px;border-bottom:1px solid #e3e3e3;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.drifted td{background:#fff4f2}
.badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px}.yes{background:#d9534f;color:#fff}.no{background:#e3e3e3}
.features{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:14px}
.card{border:1px solid #ddd;border-radius:6px;padding:10px}.card p{margin:2px 0 6px;color:#555;font-size:12px}
`;

function methodDetail(f: FeatureDrift): string {
  const decision =
    f.pValue !== null
      ? `p = ${formatNumber(f.pValue)} (drift if < ${f.threshold})`
      : `score ${formatNumber(f.score)} (drift if ≥ ${f.threshold})`;
  return `${f.method}: statistic ${formatNumber(f.statistic)}, ${decision}, PSI ${formatNumber(f.psi)}`;
}

/** The whole report as an HTML document. */
export function renderDriftHtml(report: DriftReport, options: HtmlReportOptions = {}): string {
  const title = options.title ?? 'Data drift report';
  const drifted = report.features.filter((f) => f.drifted).length;
  const n = report.features.length;
  const verdict = report.datasetDrift
    ? `Dataset drift detected: ${drifted} of ${n} columns drifted (share ${(100 * report.driftShare).toFixed(1)}%)`
    : `No dataset drift: ${drifted} of ${n} columns drifted (share ${(100 * report.driftShare).toFixed(1)}%)`;
  const source = [
    options.referenceName
      ? `reference <b>${escapeHtml(options.referenceName)}</b> (${report.referenceRows} rows)`
      : `reference: ${report.referenceRows} rows`,
    options.currentName
      ? `current <b>${escapeHtml(options.currentName)}</b> (${report.currentRows} rows)`
      : `current: ${report.currentRows} rows`,
    `correction: ${escapeHtml(report.correction)}`,
    `computed ${escapeHtml(new Date(report.computedAt).toISOString())}`,
  ].join(' · ');
  const rows = report.features
    .map(
      (f) =>
        `<tr class="${f.drifted ? 'drifted' : ''}"><td><a href="#f-${encodeURIComponent(f.feature)}">${escapeHtml(f.feature)}</a></td><td>${f.kind}</td><td>${f.method}</td>` +
        `<td class="num">${formatNumber(f.statistic)}</td><td class="num">${formatNumber(f.pValue ?? f.score)}</td><td class="num">${formatNumber(f.threshold)}</td>` +
        `<td class="num">${formatNumber(f.psi)}</td><td><span class="badge ${f.drifted ? 'yes' : 'no'}">${f.drifted ? 'drift' : 'ok'}</span></td></tr>`,
    )
    .join('\n');
  const cards = report.features
    .map(
      (f) =>
        `<div class="card" id="f-${encodeURIComponent(f.feature)}"><h3>${escapeHtml(f.feature)} <span class="badge ${f.drifted ? 'yes' : 'no'}">${f.drifted ? 'drift' : 'ok'}</span></h3>` +
        `<p>${escapeHtml(methodDetail(f))}</p>${histogramSvg(f)}</div>`,
    )
    .join('\n');
  const prediction = report.prediction
    ? `<h2>Prediction drift</h2><div class="features"><div class="card"><h3>predicted classes vs training labels <span class="badge ${report.prediction.drifted ? 'yes' : 'no'}">${report.prediction.drifted ? 'drift' : 'ok'}</span></h3><p>${escapeHtml(methodDetail(report.prediction))}</p>${histogramSvg(report.prediction)}</div></div>`
    : '';
  const skipped =
    report.skipped && report.skipped.length > 0
      ? `<h2>Columns not compared</h2><ul>${report.skipped.map((s) => `<li>${escapeHtml(s.feature)}: ${escapeHtml(s.reason)}</li>`).join('')}</ul>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${CSS}</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${source}</p>
<div class="verdict ${report.datasetDrift ? 'drift' : 'nodrift'}">${escapeHtml(verdict)}${options.driftShareThreshold !== undefined ? `; dataset drift when the share is at least ${(100 * options.driftShareThreshold).toFixed(0)}%` : ''}.</div>
<h2>Columns</h2>
<table><thead><tr><th>column</th><th>kind</th><th>method</th><th>statistic</th><th>p-value / score</th><th>threshold</th><th>PSI</th><th>drift</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${prediction}
<h2>Distributions</h2>
<div class="features">
${cards}
</div>
${skipped}
</body></html>
`;
}
