export {
  EXPORT_MANIFEST,
  EXPORT_FORMAT_VERSION,
  EXPORT_FORMATS,
  ExportManifestSchema,
  readManifest,
  verifyExport,
  type ExportFormat,
  type ExportManifest,
  type FileEntry,
  type QuantizationInfo,
  type TensorSignature,
} from './manifest.js';
export {
  exportTfjs,
  loadTfjsExport,
  tfjsSignature,
  TFJS_MODEL_JSON,
  DEFAULT_SHARD_BYTES,
  type TfjsExportOptions,
  type ExportResult,
  type LoadedExport,
} from './tfjs.js';
export {
  exportOnnx,
  buildOnnx,
  serializeOnnx,
  loadOnnxExport,
  ONNX_MODEL,
  ONNX_INT8_MODEL,
  INT8_MODES,
  type Int8Mode,
  type OnnxExportOptions,
  type SerializeOptions,
  type OnnxBuild,
  type LoadedOnnxExport,
} from './onnx/export.js';
export {
  convertModel,
  ONNX_LAYER_CLASSES,
  EXPORTABLE_ACTIVATIONS,
  type ConvertOptions,
  type ConvertResult,
} from './onnx/convert.js';
export { OnnxGraph, OPSET, IR_VERSION } from './onnx/graph.js';
export { compactNames } from './onnx/compact.js';
export { encodeModel, decodeModel, ONNX_PROTO } from './onnx/proto.js';
export { quantizeDynamic, type DynamicQuantizeOptions } from './onnx/quantize/dynamic.js';
export { quantizeStatic, quantizableTensors, type StaticQuantizeOptions } from './onnx/quantize/static.js';
export {
  calibrate,
  CALIBRATION_METHODS,
  type CalibrationMethod,
  type CalibrationOptions,
} from './onnx/quantize/calibrate.js';
export { RangesSchema, parseRanges, type Range } from './onnx/quantize/params.js';
export { slowInt8Ops, poolBeforeActivation } from './onnx/quantize/float-ops.js';
export { storeWeightInt8 } from './onnx/quantize/weight-storage.js';
export {
  createSession,
  runSession,
  predictOnnx,
  type FeedValue,
  type SessionOptions,
} from './onnx/runtime.js';
export { preprocessingStage, rawFeeds } from './onnx/preprocess.js';
export { predictDataset, scorePredictions, calibrationBatches, type Score } from './onnx/score.js';
