/** Two-sample statistics for drift detection, each matching a scipy (or numpy) reference. */
export { logGamma, gammaP, gammaQ, chi2Sf, erfc, normalSf } from './special.js';
export { kstwoSf, smirnovSf } from './kstwo.js';
export {
  ks2Samp,
  ks2SampSorted,
  ksStatistic,
  ksExact,
  ksAsymptotic,
  KS_MAX_EXACT_N,
  type KsMethod,
  type KsResult,
} from './ks.js';
export { chiSquare, chi2Contingency, type ChiSquareResult, type ContingencyResult } from './chisquare.js';
export { twoProportionZTest, type ZTestResult } from './ztest.js';
export {
  wassersteinDistance,
  wassersteinSorted,
  wassersteinNormalized,
  populationStd,
  WASSERSTEIN_STD_FLOOR,
} from './wasserstein.js';
export { jensenShannonDistance } from './jensenshannon.js';
export {
  psiFromCounts,
  psiNumeric,
  psiCategorical,
  quantileEdges,
  psiEdges,
  nextUp,
  countByEdges,
  PSI_DEFAULT_BINS,
  PSI_DEFAULT_EPSILON,
  type PsiResult,
  type NumericPsiResult,
} from './psi.js';
export { bonferroni, benjaminiHochberg, adjustPValues, type Correction } from './correction.js';
