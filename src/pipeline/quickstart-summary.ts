/**
 * The main job's summary: every step of the lifecycle run and of the retrain the alert started (time
 * and result), the seed model, the champion it became (sizes), what the monitor saw on normal, shifted
 * and post-retrain traffic, the webhooks received, the alias moves with their reasons, the old and new
 * champion on a shifted holdout — and the bar, checked here so that CI reads one JSON file:
 * seed test accuracy >= 0.975; drift detected on shifted traffic and not on normal traffic; a retrained
 * version promoted to @champion whose accuracy on the shifted holdout beats the old champion's.
 */
import type { PipelineRunRecord, PipelineStepRecord } from '../store/pipeline-types.js';
import type { AliasMove } from '../store/registry.js';
import type { JsonValue } from '../store/types.js';
import type { VersionScore } from './automation/holdout.js';
import type { TriggeredRun } from './automation/loop.js';
import type { ReceivedWebhook } from './automation/webhook-receiver.js';

export const SEED_ACCURACY_BAR = 0.975;

export interface StepSummary {
  pipeline: string;
  step: string;
  uses: string;
  status: string;
  seconds: number | null;
  result: string;
}

export interface TrafficSummary {
  rows: number | null;
  shift: string | null;
  /** Client-side accuracy by answering version. */
  versions: JsonValue;
  drift_share: number | null;
  dataset_drift: boolean | null;
  live_accuracy: number | null;
  alerts_fired: string[];
  /** Rules on a drift metric (drift_share, dataset_drift, feature_drift) that fired during the traffic. */
  drift_alerts: string[];
}

export interface BarCheck {
  passed: boolean;
  detail: string;
}

export interface QuickstartSummary {
  ok: boolean;
  status: string;
  error: string | null;
  seconds: number;
  store: string;
  machine: { cores: number; loadBefore: number[]; loadAfter: number[]; node: string };
  pipeline: { id: string; name: string; status: string; error: string | null; steps: StepSummary[] };
  retrain: {
    pipeline_run: string | null;
    status: string;
    rule: string;
    fired_at: number;
    message: string;
    joined: string[];
    error: string | null;
    steps: StepSummary[];
  } | null;
  /** Alerts the loop did not act on (cooldown), and why. */
  skipped_alerts: { rule: string; at: number; reason: string | null }[];
  seed: {
    run_id: string | null;
    test_accuracy: number | null;
    f1_macro: number | null;
    size_gzip_bytes: number | null;
  };
  champion: {
    version: number | null;
    run_id: string | null;
    test_accuracy: number | null;
    size_gzip_bytes: number | null;
    size_ratio: number | null;
    sparsity: number | null;
    onnx_bytes: number | null;
    onnx_int8_bytes: number | null;
    onnx_int8_accuracy: number | null;
  };
  traffic: Record<'normal' | 'shifted' | 'after', TrafficSummary | null>;
  webhooks: { event: string | null; rule: string | null; status: string | null; at: number }[];
  promoted: { model: string; from: number | null; to: number; gate: JsonValue; canary: JsonValue } | null;
  alias_moves: {
    alias: string;
    action: string;
    from: number | null;
    to: number | null;
    actor: string;
    reason: string | null;
    time: number;
  }[];
  shifted_holdout: {
    description: string;
    old: VersionScore | null;
    new: VersionScore | null;
    unshifted_old: VersionScore | null;
    unshifted_new: VersionScore | null;
  };
  bar: Record<
    'seed_accuracy' | 'no_drift_on_normal' | 'drift_on_shifted' | 'promoted' | 'beats_old_on_shifted',
    BarCheck
  >;
}

export interface SummaryInput {
  run: PipelineRunRecord;
  store: string;
  triggered: TriggeredRun[];
  history: AliasMove[];
  webhooks: ReceivedWebhook[];
  holdout: { description: string; shifted: VersionScore[]; unshifted: VersionScore[] };
  seconds: number;
  machine: QuickstartSummary['machine'];
}

type Outputs = Record<string, JsonValue>;

const num = (v: JsonValue | undefined): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v : null;
const obj = (v: JsonValue | undefined): Outputs =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Outputs) : {};
const pct = (v: number | null): string => (v === null ? 'n/a' : `${(100 * v).toFixed(2)}%`);
const kb = (v: number | null): string => (v === null ? 'n/a' : `${(v / 1024).toFixed(1)} KB`);

function seconds(s: PipelineStepRecord): number | null {
  return s.startTime !== null && s.endTime !== null ? (s.endTime - s.startTime) / 1000 : null;
}

/** One line saying what a step produced. */
export function stepResult(s: PipelineStepRecord): string {
  if (s.status === 'failed' || s.status === 'skipped' || s.status === 'interrupted') return s.error ?? '';
  const o: Outputs = s.outputs ?? {};
  const m = obj(o['metrics']);
  switch (s.uses) {
    case 'train':
    case 'retrain':
      return `test accuracy ${pct(num(m['test_accuracy']))}, F1 ${num(m['test_f1_macro'])?.toFixed(4) ?? 'n/a'}${o['warm_start'] ? `, warm start ${String(o['warm_start'])}` : ''}`;
    case 'evaluate':
      return `accuracy ${pct(num(m['accuracy']))}, macro F1 ${num(m['f1_macro'])?.toFixed(4) ?? 'n/a'} (${String(o['split'])})`;
    case 'optimize':
      return `test ${pct(num(o['test']))}, ${kb(num(o['size_gzip_bytes']))} gzipped (was ${kb(num(m['baseline_size_gzip_bytes']))}), sparsity ${pct(num(m['sparsity']))}`;
    case 'export': {
      const e = obj(o['evaluation']);
      const int8 = num(obj(e['int8'])['value']);
      return `ONNX ${kb(num(o['size_bytes']))}${num(o['int8_size_bytes']) !== null ? `, int8 ${kb(num(o['int8_size_bytes']))}` : ''}${int8 !== null ? ` (int8 accuracy ${pct(int8)})` : ''}`;
    }
    case 'gate': {
      const v = obj(o['values']);
      const c = obj(o['champion_values']);
      const vs = o['champion'] ? ` vs ${String(o['champion'])} ${pct(num(c['test_accuracy']))}` : '';
      return `${o['passed'] ? 'passed' : `failed: ${(o['reasons'] as string[] | undefined)?.join('; ') ?? ''}`} (test accuracy ${pct(num(v['test_accuracy']))}${vs})`;
    }
    case 'register':
      return `${String(o['ref'])}${Array.isArray(o['aliases']) && o['aliases'].length ? ` @${o['aliases'].join(', @')}` : ''}`;
    case 'deploy':
      return `${String(o['model'])}:${String(o['version'])} at ${String(o['url'])}`;
    case 'traffic': {
      const versions = Object.entries(obj(o['versions']))
        .map(([v, t]) => `v${v} ${pct(num(obj(t)['accuracy']))}`)
        .join(', ');
      const fired = (o['alerts_fired'] as string[] | undefined) ?? [];
      const drift = num(o['drift_share']);
      return (
        `${String(o['rows'])} rows (${String(o['shift'])}): ${versions}` +
        (drift !== null ? `; drift share ${drift.toFixed(3)}` : '') +
        (num(o['live_accuracy']) !== null ? `, live accuracy ${pct(num(o['live_accuracy']))}` : '') +
        (o['drift_share'] !== undefined ? `; alerts fired: ${fired.join(', ') || 'none'}` : '')
      );
    }
    case 'feedback-data': {
      const r = obj(o['rows']);
      return `${String(r['base'])} training + ${String(r['feedback'])} feedback rows (${String(o['mispredicted'])} mispredicted)`;
    }
    case 'promote': {
      const check = obj(o['check']);
      return `${String(o['stage'])}: ${String(o['model'])}:${String(o['version'])}${typeof check['reason'] === 'string' ? ` — ${check['reason']}` : ''}`;
    }
    case 'await-retrain':
      return `${String(o['status'])} (alert ${String(o['rule'])})${o['promoted'] ? `: ${String(o['promoted'])} is @champion` : ''}`;
    default:
      return s.error ?? '';
  }
}

function steps(record: PipelineRunRecord): StepSummary[] {
  return record.steps.map((s) => ({
    pipeline: record.name,
    step: s.stepId,
    uses: s.uses,
    status: s.status,
    seconds: seconds(s),
    result: stepResult(s),
  }));
}

function traffic(s: PipelineStepRecord | undefined): TrafficSummary | null {
  if (!s?.outputs) return null;
  const o = s.outputs;
  return {
    rows: num(o['rows']),
    shift: typeof o['shift'] === 'string' ? o['shift'] : null,
    versions: o['versions'] ?? null,
    drift_share: num(o['drift_share']),
    dataset_drift: typeof o['dataset_drift'] === 'boolean' ? o['dataset_drift'] : null,
    live_accuracy: num(o['live_accuracy']),
    alerts_fired: Array.isArray(o['alerts_fired']) ? o['alerts_fired'].map(String) : [],
    drift_alerts: [
      ...new Set(
        (Array.isArray(o['alerts']) ? o['alerts'] : [])
          .map(obj)
          .filter(
            (a) =>
              a['kind'] === 'firing' &&
              /^(drift_share|dataset_drift|feature_drift)\b/.test(String(a['message'])),
          )
          .map((a) => String(a['rule'])),
      ),
    ],
  };
}

export function buildSummary(input: SummaryInput): QuickstartSummary {
  const { run } = input;
  const step = (uses: string, id?: string): PipelineStepRecord | undefined =>
    run.steps.find((s) => s.uses === uses && (id === undefined || s.stepId === id));
  const out = (s: PipelineStepRecord | undefined): Outputs => s?.outputs ?? {};
  const trafficSteps = run.steps.filter((s) => s.uses === 'traffic');
  const byName = (id: string, i: number) => traffic(step('traffic', id) ?? trafficSteps[i]);
  const normal = byName('normal', 0);
  const shifted = byName('shifted', 1);
  const after = byName('after', 2);

  const retrainRun = input.triggered.find((t) => t.state !== 'skipped') ?? null;
  const rStep = (uses: string, id?: string) =>
    retrainRun?.record?.steps.find((s) => s.uses === uses && (id === undefined || s.stepId === id));
  const promoteChampion = retrainRun?.record?.steps.find(
    (s) => s.uses === 'promote' && s.outputs?.['stage'] === 'champion',
  );
  const promoted = retrainRun?.promoted ?? null;

  const train = out(step('train'));
  const optimize = out(step('optimize'));
  const om = obj(optimize['metrics']);
  const exp = out(step('export'));
  const register = out(step('register'));
  const oldVersion = num(register['version']);
  const score = (list: VersionScore[], v: number | null) => list.find((x) => x.version === v) ?? null;
  const oldShifted = score(input.holdout.shifted, oldVersion);
  const newShifted = score(input.holdout.shifted, promoted?.version ?? null);

  const seedAccuracy = num(obj(train['metrics'])['test_accuracy']);
  const bar: QuickstartSummary['bar'] = {
    seed_accuracy: {
      passed: seedAccuracy !== null && seedAccuracy >= SEED_ACCURACY_BAR,
      detail: `seed test accuracy ${pct(seedAccuracy)} (bar ${pct(SEED_ACCURACY_BAR)})`,
    },
    no_drift_on_normal: {
      passed: normal !== null && normal.alerts_fired.length === 0 && normal.dataset_drift !== true,
      detail: normal
        ? `normal traffic: drift share ${normal.drift_share?.toFixed(3) ?? 'n/a'}, alerts fired: ${normal.alerts_fired.join(', ') || 'none'}`
        : 'no normal traffic step',
    },
    drift_on_shifted: {
      passed: shifted !== null && shifted.drift_alerts.length > 0,
      detail: shifted
        ? `shifted traffic: drift share ${shifted.drift_share?.toFixed(3) ?? 'n/a'}, drift alerts fired: ${shifted.drift_alerts.join(', ') || 'none'}, all alerts: ${shifted.alerts_fired.join(', ') || 'none'}`
        : 'no shifted traffic step',
    },
    promoted: {
      passed: promoted !== null && promoted.version !== oldVersion,
      detail: promoted
        ? `${promoted.model}:${promoted.version} promoted to @champion (was ${promoted.model}:${oldVersion ?? '?'})`
        : `nothing promoted (retrain ${retrainRun?.state ?? 'not started'}${retrainRun?.error ? `: ${retrainRun.error}` : ''})`,
    },
    beats_old_on_shifted: {
      passed: oldShifted !== null && newShifted !== null && newShifted.accuracy > oldShifted.accuracy,
      detail:
        oldShifted && newShifted
          ? `shifted holdout: new v${newShifted.version} ${pct(newShifted.accuracy)} vs old v${oldShifted.version} ${pct(oldShifted.accuracy)}`
          : 'no shifted-holdout scores (nothing promoted)',
    },
  };
  const ok = run.status === 'finished' && Object.values(bar).every((b) => b.passed);
  return {
    ok,
    status: run.status,
    error: run.error,
    seconds: input.seconds,
    store: input.store,
    machine: input.machine,
    pipeline: { id: run.id, name: run.name, status: run.status, error: run.error, steps: steps(run) },
    retrain: retrainRun
      ? {
          pipeline_run: retrainRun.pipelineRunId,
          status: retrainRun.state,
          rule: retrainRun.rule,
          fired_at: retrainRun.firedAt,
          message: retrainRun.message,
          joined: retrainRun.joined.map((j) => j.rule),
          error: retrainRun.error,
          steps: retrainRun.record ? steps(retrainRun.record) : [],
        }
      : null,
    skipped_alerts: input.triggered
      .filter((t) => t.state === 'skipped')
      .map((t) => ({ rule: t.rule, at: t.firedAt, reason: t.error })),
    seed: {
      run_id: typeof train['run_id'] === 'string' ? train['run_id'] : null,
      test_accuracy: seedAccuracy,
      f1_macro: num(obj(train['metrics'])['test_f1_macro']),
      size_gzip_bytes: num(om['baseline_size_gzip_bytes']),
    },
    champion: {
      version: oldVersion,
      run_id: typeof optimize['run_id'] === 'string' ? optimize['run_id'] : null,
      test_accuracy: num(optimize['test']),
      size_gzip_bytes: num(optimize['size_gzip_bytes']),
      size_ratio: num(om['size_ratio_gzip']),
      sparsity: num(om['sparsity']),
      onnx_bytes: num(exp['size_bytes']),
      onnx_int8_bytes: num(exp['int8_size_bytes']),
      onnx_int8_accuracy: num(obj(obj(exp['evaluation'])['int8'])['value']),
    },
    traffic: { normal, shifted, after },
    webhooks: input.webhooks.map((w) => {
      const b = obj(w.body as JsonValue);
      return {
        event: w.event,
        rule: typeof b['rule'] === 'string' ? b['rule'] : null,
        status: typeof b['status'] === 'string' ? b['status'] : null,
        at: w.at,
      };
    }),
    promoted: promoted
      ? {
          model: promoted.model,
          from: num(promoteChampion?.outputs?.['previous']),
          to: promoted.version,
          gate: rStep('gate')?.outputs ?? null,
          canary: promoteChampion?.outputs?.['check'] ?? null,
        }
      : null,
    alias_moves: input.history.map((m) => ({
      alias: m.alias,
      action: m.action,
      from: m.fromVersion,
      to: m.toVersion,
      actor: m.actor,
      reason: m.reason,
      time: m.time,
    })),
    shifted_holdout: {
      description: input.holdout.description,
      old: oldShifted,
      new: newShifted,
      unshifted_old: score(input.holdout.unshifted, oldVersion),
      unshifted_new: score(input.holdout.unshifted, promoted?.version ?? null),
    },
    bar,
  };
}
