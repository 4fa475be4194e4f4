/**
 * Drift detection settings. Defaults follow Evidently (GUIDE section 10): with a reference of at most 1000
 * rows, numeric columns with more than 5 distinct values get the two-sample KS test, other columns the
 * chi-square test (the z-test when binary), drift when p < 0.05; with a larger reference, numeric columns
 * get the Wasserstein distance normalized by the reference std (drift when >= 0.1) and the others the
 * Jensen-Shannon distance (drift when >= 0.1). Dataset drift when at least half of the columns drift.
 * One departure: the chi-square test is the two-sample (contingency) form by default, see chiSquareMode.
 *
 * Multiple testing: the default correction is Benjamini-Hochberg ('fdr'). Under no drift at all it holds
 * the chance of any false alarm at the test level, like Bonferroni, but when many columns really drift it
 * flags far more of them than Bonferroni does, and the drift share is exactly the quantity it controls
 * (the expected share of false flags among flagged columns). Only p-value tests are corrected; distances
 * are compared to their thresholds as they are.
 */
import { z } from 'zod';
import { ModelautoError } from '../../core/errors.js';
import { formatZodError } from '../../core/zod-error.js';

export const NUMERIC_METHODS = ['auto', 'ks', 'wasserstein', 'psi', 'jensenshannon'] as const;
export const CATEGORICAL_METHODS = ['auto', 'chisquare', 'ztest', 'jensenshannon', 'psi'] as const;
export const PREDICTION_METHODS = ['auto', 'chisquare', 'jensenshannon', 'psi'] as const;
export const CORRECTIONS = ['none', 'bonferroni', 'fdr'] as const;

const probability = z.number().gt(0).lt(1);

export const DriftThresholdsSchema = z.strictObject({
  /** Tests (KS, chi-square, z): drift when the (corrected) p-value is below this. */
  pValue: probability.default(0.05),
  /** Drift when Wasserstein / max(std_ref, 0.001) >= this. */
  wasserstein: z.number().positive().default(0.1),
  /** Drift when the Jensen-Shannon distance (natural log unless jsBase is set) >= this. */
  jensenshannon: z.number().positive().default(0.1),
  /** Drift when PSI >= this, when PSI is the method (it is reported for every column regardless). */
  psi: z.number().positive().default(0.1),
});

export const DriftOptionsSchema = z.strictObject({
  numericMethod: z.enum(NUMERIC_METHODS).default('auto'),
  categoricalMethod: z.enum(CATEGORICAL_METHODS).default('auto'),
  /** Predicted-class distribution against the training labels: chi-square (small reference) or JS. */
  predictionMethod: z.enum(PREDICTION_METHODS).default('auto'),
  thresholds: DriftThresholdsSchema.prefault({}),
  correction: z.enum(CORRECTIONS).default('fdr'),
  /** Dataset drift when the share of drifted columns is at least this. */
  driftShare: z.number().gt(0).max(1).default(0.5),
  /** Compare only these columns (default: every reference column). */
  include: z.array(z.string().min(1)).optional(),
  /** Leave these columns out. */
  skip: z.array(z.string().min(1)).default([]),
  /** Fewer rows than this in either sample is refused; a column with fewer non-missing values is skipped. */
  minRows: z.int().positive().default(30),
  /**
   * Rows the reference stands for, which decides the auto rule. When the reference is a sample of the
   * training set (the bundle stores at most 1000 rows), this is the training set size (profile.n).
   * Default: the reference's own row count.
   */
  referenceRows: z.int().positive().optional(),
  /** The auto rule's cut-over: tests for references up to this many rows, distances above (Evidently: 1000). */
  autoReferenceLimit: z.int().positive().default(1000),
  /** Numeric columns with at most this many distinct values (reference and current pooled) count as categorical. */
  maxUniqueForCategorical: z.int().nonnegative().default(5),
  /** KS p-value method as in scipy's ks_2samp: exact up to 10,000 values per sample, else asymptotic. */
  ksMethod: z.enum(['auto', 'exact', 'asymp']).default('auto'),
  /**
   * 'contingency' (default): chi-square test of homogeneity on the 2-row table reference counts / current
   * counts (scipy's chi2_contingency). 'goodness-of-fit': Evidently's form, current counts against the
   * reference proportions taken as exact (scipy's chisquare). The reference is itself a sample, and with
   * goodness of fit any value the reference sample happens to lack gives p = 0: on two random halves of
   * MNIST it flagged 25-42 of 34-52 sparse pixel columns, the contingency form none.
   */
  chiSquareMode: z.enum(['goodness-of-fit', 'contingency']).default('contingency'),
  /** Equal-width bins over the pooled range for the Jensen-Shannon distance of numeric columns (Evidently: 30). */
  jsBins: z.int().min(2).max(1000).default(30),
  /** Logarithm base of the Jensen-Shannon distance (default e, as Evidently; 2 bounds it by 1). */
  jsBase: z.number().positive().optional(),
  /** Reference quantile bins for PSI (default deciles). */
  psiBins: z.int().min(2).max(100).default(10),
  /** Proportion used for an empty PSI bin. */
  psiEpsilon: z.number().positive().max(0.01).default(1e-4),
  /** Bins of the reference-vs-current histograms in the report. */
  histogramBins: z.int().min(1).max(200).default(20),
  /** Categories shown per categorical histogram; the rest are summed into one "(other)" bar. */
  maxCategories: z.int().min(1).max(1000).default(30),
  /**
   * Compare at most this many columns: the ones whose reference values spread most (numeric: standard
   * deviation; categorical: distinct values) are kept, the rest listed as skipped. Wide tensors (784
   * MNIST pixels, a third of them constant at the borders) stay fast and readable.
   */
  maxFeatures: z.int().positive().optional(),
});

export type DriftOptions = z.infer<typeof DriftOptionsSchema>;
export type DriftOptionsInput = z.input<typeof DriftOptionsSchema>;

/** Validates drift options; `path` names them in error messages. */
export function parseDriftOptions(input: unknown = {}, path = 'drift'): DriftOptions {
  const r = DriftOptionsSchema.safeParse(input ?? {});
  if (!r.success) {
    throw new ModelautoError('INVALID_ARGUMENT', formatZodError(r.error, path), { cause: r.error });
  }
  return r.data;
}
