/** Drift detection: columns, options, the engine and the reference a trained model carries. */
export {
  columnarFromDataset,
  columnarFromRecords,
  columnarFromTensor,
  columnOrder,
  headColumnar,
  pixelName,
  type ColumnarData,
} from './columnar.js';
export {
  DriftOptionsSchema,
  DriftThresholdsSchema,
  parseDriftOptions,
  NUMERIC_METHODS,
  CATEGORICAL_METHODS,
  PREDICTION_METHODS,
  CORRECTIONS,
  type DriftOptions,
  type DriftOptionsInput,
} from './options.js';
export { detectDrift, type PredictionCounts } from './detect.js';
export { PREDICTION_FEATURE } from './prediction.js';
export {
  sampleReference,
  decodeReferenceSample,
  loadDriftReference,
  columnarFromProfile,
  ReferenceSampleSchema,
  REFERENCE_ARTIFACTS,
  REFERENCE_SAMPLE_ROWS,
  REFERENCE_SAMPLE_VERSION,
  type DriftReference,
  type EncodedReferenceSample,
  type LoadDriftReferenceOptions,
  type ReferenceSample,
  type SampleReferenceOptions,
} from './reference.js';
