export type * from './types.js';
export {
  BUILTIN_DATASETS,
  DEFAULT_MISSING_VALUES,
  DataSpecSchema,
  ImputeSpecSchema,
  MissingSpecSchema,
  PreprocessSpecSchema,
  SplitSpecSchema,
  parseDataSpec,
  type BuiltinName,
  type DataSpec,
  type DataSpecInput,
  type ImputeSpec,
  type MissingPolicy,
  type MissingSpec,
  type PreprocessSpec,
  type PreprocessSpecInput,
  type SplitSpec,
  type TableDataSpec,
  type TableOptions,
} from './spec.js';
export { loadCsv, csvToDataset, type CsvLoadOptions } from './csv.js';
export { parseCsv, type CsvRecord } from './csv-parse.js';
export { loadJsonl, jsonlToDataset, type JsonlLoadOptions } from './jsonl.js';
export {
  loadIdx,
  parseIdx,
  readIdxFile,
  idxToDataset,
  type IdxArray,
  type IdxData,
  type IdxLoadOptions,
} from './idx.js';
export {
  loadBuiltin,
  isBuiltinName,
  mnistDataDir,
  IRIS_FEATURES,
  type BuiltinLoadOptions,
} from './builtin.js';
export { fromArrays, fromTensors, type FromArraysInput, type FromTensorsOptions } from './memory.js';
export { loadDataset, type LoadDatasetOptions } from './load.js';
export { subsetDataset, headDataset, splitDataset, itemSize, type DatasetSplits } from './split.js';
export type { TableLoadOptions } from './table.js';
export {
  Preprocessor,
  fitPreprocessor,
  type EncodedTarget,
  type FitPreprocessorOptions,
  type TransformOptions,
  type TransformResult,
} from './preprocess.js';
export {
  PREPROCESSOR_STATE_VERSION,
  PreprocessorStateSchema,
  type PreprocessorState,
  type TargetState,
} from './preprocess-state.js';
export {
  DataProfileSchema,
  FeatureProfileSchema,
  LabelProfileSchema,
  PROFILE_VERSION,
  numericStats,
  profileDataset,
  type DataProfile,
  type FeatureProfile,
  type LabelProfile,
  type ProfileOptions,
} from './profile.js';
export { QUANTILES, type NumericStats, type QuantileName } from './profile-stats.js';
export { fingerprintDataset } from './fingerprint.js';
