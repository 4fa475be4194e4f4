/** Model optimization: pruning, distillation, weight quantization and the accuracy-budget search. */
export {
  ConstantSparsitySchema,
  PolynomialDecaySchema,
  PruningScheduleSchema,
  parsePruningSchedule,
  scheduleAt,
  finalSparsity,
  lastUpdateStep,
  type PruningSchedule,
  type PruningScheduleInput,
  type ScheduleDecision,
} from './schedule.js';
export {
  keepCount,
  magnitudeMask,
  magnitudeThreshold,
  thresholdMask,
  mByNMask,
  zeroFraction,
} from './masks.js';
export {
  PRUNE_SCOPES,
  MByNSchema,
  MagnitudePruningSchema,
  PruningCallback,
  parseMagnitudePruning,
  pruningTargets,
  pruneOnce,
  type MagnitudePruning,
  type MagnitudePruningInput,
  type OneShotPruning,
  type PrunedLayer,
  type PruneScope,
  type PruningTarget,
} from './prune.js';
export {
  STRUCTURED_CRITERIA,
  StructuredPruningSchema,
  parseStructuredPruning,
  structuredCandidates,
  structuredPrune,
  channelNorms,
  sliceAxis,
  topChannels,
  type StructuredCandidate,
  type StructuredCriterion,
  type StructuredLayerResult,
  type StructuredPruning,
  type StructuredPruningInput,
  type StructuredResult,
} from './structured.js';
export {
  DEFAULT_ALPHA,
  DEFAULT_TEMPERATURE,
  DistillationSchema,
  checkDistillable,
  distill,
  distillationLoss,
  parseDistillation,
  type DistillOptions,
  type Distillation,
  type DistillationInput,
} from './distill.js';
export { narrowedStudent } from './student.js';
export {
  QUANT_DTYPES,
  QuantDtypeSchema,
  QuantizationPlanSchema,
  dequantizeAffine,
  parseQuantizationPlan,
  quantizableLayers,
  quantizeAffine,
  quantizeModelFiles,
  type AffineQuantized,
  type QuantDtype,
  type QuantizationPlan,
  type QuantizationPlanInput,
  type QuantizedModel,
  type QuantizedWeight,
} from './quantize.js';
export { encodeFloat16, float16Bits, float16Value } from './float16.js';
export {
  chooseQuantization,
  precisionChain,
  type LayerSensitivity,
  type ScoreFn,
  type SensitivityOptions,
  type SensitivityResult,
} from './sensitivity.js';
export {
  QAT_SCHEMES,
  QatSchema,
  FakeQuant,
  WeightFakeQuant,
  activationRanges,
  fakeQuantAffine,
  fakeQuantInt8,
  fakeQuantRange,
  withActivationFakeQuant,
  withoutFakeQuant,
  type Qat,
  type QatInput,
  type QatScheme,
} from './qat.js';
export {
  captureModel,
  encodeModelFiles,
  gzipSize,
  loadModelFiles,
  modelFiles,
  modelSize,
  sizeOfFiles,
  writeModelFiles,
  type CapturedModel,
  type ModelFiles,
  type ModelSize,
} from './serialize.js';
export { compressionReport, layerReport, type CompressionReport, type LayerReport } from './report.js';
export {
  measureInterleaved,
  measureLatency,
  pairedSpeedup,
  type Latency,
  type LatencyOptions,
  type TimedCall,
} from './latency.js';
export { copyWeights, withLogitsOutput } from './topology.js';
export { kernelWeights, type KernelWeight } from './weights.js';
export {
  OBJECTIVES,
  TOLERANCE_MODES,
  ToleranceSchema,
  accuracyFloor,
  bestWithin,
  formatBudget,
  paretoFront,
  parseBudget,
  type Budget,
  type Objective,
  type ParetoPoint,
  type ToleranceMode,
} from './pareto.js';
