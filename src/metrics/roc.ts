import { z } from 'zod';
import { LabelKindGuard, formatLabel, formatLabelList, uniqueSorted, type Label } from './labels.js';
import { labelsSchema, sampleWeightSchema } from './schemas.js';
import {
  checkNonEmpty,
  checkSampleWeight,
  checkScores,
  checkSameLength,
  invalidArgument,
  parseOptions,
} from './validate.js';

export const rocAucOptionsSchema = z
  .object({
    /** Multiclass averaging of the one-vs-rest AUCs: 'macro' (default), 'weighted' (by support) or 'micro'. */
    average: z
      .enum(['macro', 'weighted', 'micro'], { error: "average must be one of 'macro', 'weighted', 'micro'" })
      .optional(),
    /** Required for multiclass targets, as scikit-learn requires multi_class: only 'ovr' (one-vs-rest) exists. */
    multiClass: z
      .literal('ovr', { error: "multiClass must be 'ovr' (one-vs-one is not supported)" })
      .optional(),
    /** Multiclass only: the labels of the yScore columns, sorted. Default: sorted labels of yTrue. */
    labels: labelsSchema.optional(),
    sampleWeight: sampleWeightSchema.optional(),
  })
  .strict();
export type RocAucOptions = z.input<typeof rocAucOptionsSchema>;

/** numpy.isclose(a, b) with its default tolerances. */
function isClose(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-8 + 1e-5 * Math.abs(b);
}

/**
 * Area under the ROC curve of one binary problem, computed like scikit-learn: one curve point per distinct
 * score (tied scores move together, giving a diagonal segment), collinear points dropped, trapezoids.
 */
export function binaryRocAuc(
  isPositive: ArrayLike<boolean>,
  scores: ArrayLike<number>,
  weights?: ArrayLike<number>,
): number {
  const s = Float64Array.from(scores);
  let order = new Uint32Array(s.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  if (weights) order = order.filter((i) => weights[i] !== 0);
  // numpy: stable ascending argsort reversed, so among equal scores the later sample comes first.
  order.sort((a, b) => (s[b] as number) - (s[a] as number) || b - a);
  const m = order.length;
  const tpsAll: number[] = [];
  const fpsAll: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let r = 0; r < m; r++) {
    const i = order[r] as number;
    const w = weights ? (weights[i] as number) : 1;
    if (isPositive[i]) tp += w;
    else fp += w;
    if (r === m - 1 || s[i] !== s[order[r + 1] as number]) {
      tpsAll.push(tp);
      // Unweighted false positives come from the position, as scikit-learn's fps = 1 + index - tps.
      fpsAll.push(weights ? fp : r + 1 - tp);
    }
  }
  let tps = tpsAll;
  let fps = fpsAll;
  if (tps.length > 2) {
    const keep = (i: number): boolean => {
      if (i === 0 || i === tps.length - 1) return true;
      const d2 = (x: number[]): number =>
        (x[i + 1] as number) - (x[i] as number) - ((x[i] as number) - (x[i - 1] as number));
      return d2(fpsAll) !== 0 || d2(tpsAll) !== 0;
    };
    const kept = tpsAll.map((_, i) => i).filter(keep);
    tps = kept.map((i) => tpsAll[i] as number);
    fps = kept.map((i) => fpsAll[i] as number);
  }
  tps = [0, ...tps];
  fps = [0, ...fps];
  const fpTotal = fps[fps.length - 1] as number;
  const tpTotal = tps[tps.length - 1] as number;
  if (fpTotal <= 0 || tpTotal <= 0) return NaN;
  let area = 0;
  for (let i = 1; i < tps.length; i++) {
    const dx = (fps[i] as number) / fpTotal - (fps[i - 1] as number) / fpTotal;
    area += (dx * ((tps[i] as number) / tpTotal + (tps[i - 1] as number) / tpTotal)) / 2;
  }
  return area;
}

/**
 * ROC AUC. Binary: yScore holds one score per sample for the greater label. Multiclass (multiClass: 'ovr'):
 * yScore is samples x classes probabilities (rows sum to 1), columns in sorted label order.
 */
export function rocAucScore(
  yTrue: readonly Label[],
  yScore: readonly number[] | readonly (readonly number[])[],
  options?: RocAucOptions,
): number {
  const fn = 'rocAucScore';
  const opts = parseOptions(fn, rocAucOptionsSchema, options);
  const guard = new LabelKindGuard(fn);
  guard.array('yTrue', yTrue);
  checkNonEmpty(fn, 'yTrue', yTrue);
  const scores = checkScores(fn, 'yScore', yScore);
  checkSameLength(fn, ['yTrue', yTrue], ['yScore', yScore]);
  const weights = checkSampleWeight(fn, opts.sampleWeight, yTrue.length);
  const present = uniqueSorted(yTrue);

  const multiclass = present.length > 2 || (scores.kind === '2d' && scores.columns > 2);
  if (!multiclass) {
    if (scores.kind === '2d') {
      throw invalidArgument(
        fn,
        'yScore',
        `for a binary target yScore must hold one score per sample for the positive class ` +
          `${present.length === 2 ? formatLabel(present[1] as Label) : '(the greater label)'}, got ${scores.columns} columns`,
      );
    }
    if (present.length !== 2) {
      throw invalidArgument(
        fn,
        'yTrue',
        'only one class present in yTrue; ROC AUC score is not defined in that case',
      );
    }
    const positive = present[1] as Label;
    return binaryRocAuc(
      yTrue.map((y) => y === positive),
      scores.values,
      weights,
    );
  }

  if (scores.kind !== '2d') {
    throw invalidArgument(
      fn,
      'yScore',
      `multiclass targets need a samples x classes matrix of probabilities, got 1-D scores`,
    );
  }
  if (opts.multiClass !== 'ovr') {
    throw invalidArgument(
      fn,
      'options.multiClass',
      "multiclass targets need multiClass: 'ovr' (one-vs-rest)",
    );
  }
  for (let i = 0; i < scores.rows.length; i++) {
    const sum = (scores.rows[i] as readonly number[]).reduce((a, b) => a + b, 0);
    if (!isClose(1, sum)) {
      throw invalidArgument(
        fn,
        `yScore[${i}]`,
        `target scores need to be probabilities for multiclass ROC AUC, i.e. they should sum up to 1.0 over classes (got ${sum})`,
      );
    }
  }
  const classes = multiclassLabels(fn, guard, opts.labels, present, scores.columns);
  const average = opts.average ?? 'macro';
  const n = yTrue.length;
  const k = classes.length;

  if (average === 'micro') {
    const truth: boolean[] = new Array<boolean>(n * k);
    const flat: number[] = new Array<number>(n * k);
    const flatWeights: number[] | undefined = weights ? new Array<number>(n * k) : undefined;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < k; c++) {
        truth[i * k + c] = yTrue[i] === classes[c];
        flat[i * k + c] = (scores.rows[i] as readonly number[])[c] as number;
        if (flatWeights && weights) flatWeights[i * k + c] = weights[i] as number;
      }
    }
    return binaryRocAuc(truth, flat, flatWeights);
  }

  const perClass: number[] = [];
  const supports: number[] = [];
  for (let c = 0; c < k; c++) {
    const label = classes[c] as Label;
    const truth = yTrue.map((y) => y === label);
    const positives = truth.filter(Boolean).length;
    if (positives === 0 || positives === n) {
      throw invalidArgument(
        fn,
        'yTrue',
        `class ${formatLabel(label)} is ${positives === 0 ? 'absent from' : 'the only class in'} yTrue: ` +
          'its one-vs-rest ROC AUC is not defined',
      );
    }
    perClass.push(
      binaryRocAuc(
        truth,
        scores.rows.map((r) => r[c] as number),
        weights,
      ),
    );
    supports.push(truth.reduce((acc, t, i) => acc + (t ? (weights ? (weights[i] as number) : 1) : 0), 0));
  }
  if (average === 'macro') return perClass.reduce((a, b) => a + b, 0) / k;
  const total = supports.reduce((a, b) => a + b, 0);
  if (isClose(total, 0)) return 0;
  return (
    perClass.reduce((acc, s, c) => acc + (supports[c] === 0 ? 0 : s) * (supports[c] as number), 0) / total
  );
}

/** The column labels of a multiclass score matrix: unique and sorted, covering yTrue (scikit-learn's rules). */
export function multiclassLabels(
  fn: string,
  guard: LabelKindGuard,
  labels: readonly Label[] | undefined,
  present: Label[],
  columns: number,
): Label[] {
  if (labels === undefined) {
    if (present.length !== columns) {
      throw invalidArgument(
        fn,
        'yScore',
        `number of classes in yTrue (${present.length}) not equal to the number of columns in yScore (${columns}); ` +
          'pass the labels option to list every class',
      );
    }
    return present;
  }
  guard.array('options.labels', labels);
  const classes = uniqueSorted(labels);
  if (classes.length !== labels.length) throw invalidArgument(fn, 'options.labels', 'labels must be unique');
  if (classes.some((c, i) => c !== labels[i])) {
    throw invalidArgument(
      fn,
      'options.labels',
      `labels must be ordered (sorted), e.g. ${formatLabelList(classes)}`,
    );
  }
  if (classes.length !== columns) {
    throw invalidArgument(
      fn,
      'options.labels',
      `number of given labels (${classes.length}) not equal to the number of columns in yScore (${columns})`,
    );
  }
  const known = new Set(classes);
  const unknown = present.filter((l) => !known.has(l));
  if (unknown.length > 0) {
    throw invalidArgument(
      fn,
      'yTrue',
      `yTrue contains labels not in the labels option: ${formatLabelList(unknown)}`,
    );
  }
  return classes;
}
