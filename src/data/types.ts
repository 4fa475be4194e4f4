/**
 * In-memory data set representation shared by every loader, the splitter, preprocessing and profiling.
 * Raw values are kept as loaded (no scaling): preprocessing is fitted later on the training split only.
 */

/** Numeric feature; NaN marks a missing value. */
export interface NumericColumn {
  name: string;
  kind: 'numeric';
  values: Float64Array;
}

/** Categorical feature; null marks a missing value. */
export interface CategoricalColumn {
  name: string;
  kind: 'categorical';
  values: (string | null)[];
}

export type Column = NumericColumn | CategoricalColumn;

/** Tabular features (CSV, JSON Lines, Iris, in-memory rows). */
export interface TableFeatures {
  kind: 'table';
  columns: Column[];
}

/** Dense tensor features (IDX images, in-memory tensors): row-major, `shape` is per sample. */
export interface TensorFeatures {
  kind: 'tensor';
  shape: number[];
  data: Float32Array | Uint8Array;
}

export type Features = TableFeatures | TensorFeatures;

export interface ClassificationTarget {
  kind: 'classification';
  name: string;
  /** Label names; y holds indices into this list. Sorted numerically when all labels are numbers. */
  classes: string[];
  y: Int32Array;
}

export interface RegressionTarget {
  kind: 'regression';
  name: string;
  y: Float64Array;
}

export type Target = ClassificationTarget | RegressionTarget;

export interface DataSource {
  kind: 'csv' | 'jsonl' | 'idx' | 'builtin' | 'memory';
  /** File path(s) or built-in name. */
  location: string;
}

export interface Dataset {
  name: string;
  /** Number of samples. */
  n: number;
  features: Features;
  target: Target;
  source: DataSource;
  /** A test split fixed by the data set's publisher (MNIST's t10k); splitting then only carves validation. */
  predefinedTest?: Dataset;
}
