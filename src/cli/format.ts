import { formatConfusionMatrix } from '../metrics/index.js';
import type { Evaluation } from '../pipeline/evaluation.js';
import type { EvaluateJobResult } from '../pipeline/evaluate-job.js';
import type { RunComparison } from '../pipeline/runs.js';
import type { TrainJobResult } from '../pipeline/train-job.js';
import type { RunRecord } from '../store/types.js';
import { formatDuration } from '../train/progress.js';
import { fmt, formatTable } from './table.js';

/** Human-readable renderings of library results; --json prints the objects themselves instead. */

const SCALAR_LABELS: Record<string, string> = {
  accuracy: 'accuracy',
  balanced_accuracy: 'balanced accuracy',
  precision_macro: 'precision (macro)',
  recall_macro: 'recall (macro)',
  f1_macro: 'F1 (macro)',
  precision_weighted: 'precision (weighted)',
  recall_weighted: 'recall (weighted)',
  f1_weighted: 'F1 (weighted)',
  log_loss: 'log loss',
  roc_auc: 'ROC AUC',
  top2_accuracy: 'top-2 accuracy',
  top5_accuracy: 'top-5 accuracy',
  mae: 'MAE',
  mse: 'MSE',
  rmse: 'RMSE',
  r2: 'R2',
};

export function formatEvaluation(e: Evaluation, title: string): string {
  const lines = [`${title} (${e.n} samples)`, ''];
  lines.push(
    formatTable(
      ['metric', 'value'],
      Object.entries(e.scalars).map(([k, v]) => [SCALAR_LABELS[k] ?? k, v]),
    ),
  );
  if (e.confusionMatrix && e.classes) {
    lines.push(
      '',
      'confusion matrix (rows: true, columns: predicted)',
      formatConfusionMatrix(e.confusionMatrix, e.classes),
    );
  }
  for (const n of e.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

export function trainResultJson(r: TrainJobResult): unknown {
  return {
    run: r.run,
    store: r.storeLocation,
    runDir: r.runDir,
    backend: r.backend,
    status: r.fit.status,
    stopReason: r.fit.stopReason ?? null,
    epochs: r.fit.epochsCompleted,
    seconds: r.fit.seconds,
    samplesPerSecond: r.fit.samplesPerSecond,
    sizes: r.sizes,
    test: r.test ?? null,
  };
}

export function formatTrainResult(r: TrainJobResult): string {
  const lines = [
    '',
    `run ${r.run.id} ${r.run.name}: ${r.run.status}${r.fit.stopReason ? ` (${r.fit.stopReason})` : ''}`,
    `trained ${r.fit.epochsCompleted} epoch(s) in ${formatDuration(r.fit.seconds)} on ${r.backend.name}, ${Math.round(r.fit.samplesPerSecond)} samples/s; ` +
      `data: train ${r.sizes.train}, validation ${r.sizes.validation}, test ${r.sizes.test}`,
  ];
  if (r.test) lines.push('', formatEvaluation(r.test, 'test set'));
  lines.push('', `stored in ${r.storeLocation} (run folder ${r.runDir})`);
  lines.push(
    `next: modelauto runs show ${r.run.id.slice(0, 8)}  |  modelauto evaluate ${r.run.id.slice(0, 8)}`,
  );
  return lines.join('\n');
}

export function evaluateResultJson(r: EvaluateJobResult): unknown {
  return {
    run: r.run,
    sourceRunId: r.sourceRunId,
    split: r.split,
    evaluation: r.evaluation,
    output: r.output ?? null,
  };
}

export function formatEvaluateResult(r: EvaluateJobResult): string {
  return [
    formatEvaluation(r.evaluation, `evaluation of run ${r.sourceRunId.slice(0, 8)} on ${r.split}`),
    '',
    `recorded as run ${r.run.id} (${r.run.kind})${r.output ? `; JSON written to ${r.output}` : ''}`,
  ].join('\n');
}

function time(ms: number | null): string {
  return ms === null ? '' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

function headlineMetric(run: RunRecord): string {
  if (run.status === 'failed' && run.error) return truncate(run.error, 60);
  for (const k of ['test_accuracy', 'accuracy', 'val_accuracy', 'test_r2', 'val_loss', 'loss']) {
    const m = run.metrics[k];
    if (m) return `${k} ${fmt(m.value)}`;
  }
  return '';
}

export function formatRunList(runs: RunRecord[]): string {
  if (runs.length === 0) return 'no runs yet (try: modelauto train examples/iris.yaml)';
  return formatTable(
    ['id', 'name', 'kind', 'status', 'started', 'duration', 'headline'],
    runs.map((r) => [
      r.id.slice(0, 8),
      r.name,
      r.kind,
      r.status,
      time(r.startTime),
      r.endTime === null ? '' : formatDuration((r.endTime - r.startTime) / 1000),
      headlineMetric(r),
    ]),
  );
}

export function formatRunDetails(r: RunRecord): string {
  const lines = [
    `run ${r.id}`,
    `name: ${r.name}   kind: ${r.kind}   status: ${r.status}${r.error ? `   error: ${r.error}` : ''}`,
    `started: ${time(r.startTime)}   ended: ${time(r.endTime) || '(running)'}`,
    `data fingerprint: ${r.dataFingerprint ?? '-'}   git: ${r.gitCommit ?? '-'}   parent: ${r.parentRunId ?? '-'}`,
  ];
  if (Object.keys(r.tags).length) {
    lines.push(
      '',
      'tags',
      formatTable(
        ['key', 'value'],
        Object.entries(r.tags).map(([k, v]) => [k, v]),
      ),
    );
  }
  const metrics = Object.values(r.metrics);
  if (metrics.length) {
    lines.push(
      '',
      'metrics (latest)',
      formatTable(
        ['key', 'value', 'step'],
        metrics.map((m) => [m.key, m.value, m.step]),
      ),
    );
  }
  const params = Object.entries(r.params);
  if (params.length) {
    lines.push(
      '',
      'params',
      formatTable(
        ['key', 'value'],
        params.map(([k, v]) => [k, truncate(JSON.stringify(v), 100)]),
      ),
    );
  }
  if (r.artifacts.length) {
    lines.push(
      '',
      'artifacts',
      formatTable(
        ['name', 'bytes', 'sha256'],
        r.artifacts.map((a) => [a.name, a.size, a.sha256.slice(0, 16)]),
      ),
    );
  }
  return lines.join('\n');
}

export function formatRunComparison(c: RunComparison): string {
  const headers = ['', ...c.runs.map((r) => `${r.id.slice(0, 8)} ${r.name}`)];
  const lines = [formatTable(headers, [['status', ...c.runs.map((r) => r.status)]])];
  if (c.params.length) {
    lines.push(
      '',
      'params that differ',
      formatTable(
        headers,
        c.params.map((p) => [
          p.key,
          ...p.values.map((v) => (v === null ? '-' : truncate(JSON.stringify(v), 40))),
        ]),
      ),
    );
  }
  if (c.metrics.length) {
    lines.push(
      '',
      'metrics (latest)',
      formatTable(
        headers,
        c.metrics.map((m) => [m.key, ...m.values]),
      ),
    );
  }
  return lines.join('\n');
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
