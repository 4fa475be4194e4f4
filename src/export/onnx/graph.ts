import { ModelautoError } from '../../core/errors.js';
import {
  AttributeType,
  DataType,
  type AttributeMessage,
  type DataTypeCode,
  type DimensionMessage,
  type ModelMessage,
  type NodeMessage,
  type TensorMessage,
  type ValueInfoMessage,
} from './proto.js';

/**
 * An ONNX graph under construction: nodes in topological order, named initializers and the typed
 * graph inputs/outputs. Converters append to it; the quantizers rewrite it; `toModel` freezes it into
 * the ModelProto message that proto.ts encodes.
 */

/** ONNX operator set modelauto targets: 17 is the newest that Debian's python3-onnx (1.12) checks. */
export const OPSET = 17;
/** IR version that goes with opset 17. */
export const IR_VERSION = 8;
/** Operator set of the classic-ML operators (OneHotEncoder, LabelEncoder) used by table preprocessing. */
export const ML_DOMAIN = 'ai.onnx.ml';
export const ML_OPSET = 3;

export type InitializerData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array | string[];

export interface Initializer {
  name: string;
  dataType: DataTypeCode;
  dims: number[];
  data: InitializerData;
}

export interface ValueInfo {
  name: string;
  elemType: DataTypeCode;
  /** A number is a fixed size, a string a symbolic one (the batch). */
  shape: (number | string)[];
}

export type Attribute = AttributeMessage;

export const attr = {
  int: (name: string, i: number): Attribute => ({ name, type: AttributeType.INT, i }),
  ints: (name: string, ints: number[]): Attribute => ({ name, type: AttributeType.INTS, ints }),
  float: (name: string, f: number): Attribute => ({ name, type: AttributeType.FLOAT, f }),
  floats: (name: string, floats: number[]): Attribute => ({ name, type: AttributeType.FLOATS, floats }),
  string: (name: string, s: string): Attribute => ({
    name,
    type: AttributeType.STRING,
    s: new TextEncoder().encode(s),
  }),
  strings: (name: string, values: string[]): Attribute => ({
    name,
    type: AttributeType.STRINGS,
    strings: values.map((v) => new TextEncoder().encode(v)),
  }),
};

export class OnnxGraph {
  readonly nodes: NodeMessage[] = [];
  readonly initializers = new Map<string, Initializer>();
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  /** Types of intermediate values that ONNX's shape inference cannot derive (some ai.onnx.ml outputs). */
  readonly valueInfos: ValueInfo[] = [];
  private readonly used = new Set<string>();
  private readonly domains = new Map<string, number>([['', OPSET]]);

  constructor(readonly name: string) {}

  /** A fresh tensor/node name derived from `base` (ONNX requires every value name to be unique). */
  unique(base: string): string {
    const clean = base.length > 0 ? base : 't';
    if (!this.used.has(clean)) {
      this.used.add(clean);
      return clean;
    }
    for (let i = 1; ; i++) {
      const candidate = `${clean}_${i}`;
      if (!this.used.has(candidate)) {
        this.used.add(candidate);
        return candidate;
      }
    }
  }

  /** Claims an exact name; used for the named graph inputs/outputs. */
  claim(name: string): string {
    if (this.used.has(name)) {
      throw new ModelautoError('CONFLICT', `ONNX export: the name "${name}" is used twice in the graph`);
    }
    this.used.add(name);
    return name;
  }

  addInput(info: ValueInfo): string {
    this.claim(info.name);
    this.inputs.push(info);
    return info.name;
  }

  addOutput(info: ValueInfo): void {
    this.outputs.push(info);
  }

  initializer(base: string, dataType: DataTypeCode, dims: number[], data: InitializerData): string {
    const name = this.unique(base);
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new ModelautoError(
        'INTERNAL',
        `ONNX export: initializer ${name} has ${data.length} values for shape [${dims.join(', ')}]`,
      );
    }
    this.initializers.set(name, { name, dataType, dims: [...dims], data });
    return name;
  }

  floats(base: string, dims: number[], data: ArrayLike<number>): string {
    return this.initializer(base, DataType.FLOAT, dims, Float32Array.from(data));
  }

  int64s(base: string, dims: number[], data: number[]): string {
    return this.initializer(base, DataType.INT64, dims, BigInt64Array.from(data.map((v) => BigInt(v))));
  }

  /** Appends a node; returns its output names (fresh ones derived from `outputs` bases). */
  node(
    opType: string,
    inputs: string[],
    outputs: string[] | number,
    attributes: Attribute[] = [],
    options: { name?: string; domain?: string } = {},
  ): string[] {
    const outs =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, (_, i) => this.unique(`${options.name ?? opType}_out${i}`))
        : outputs;
    const domain = options.domain ?? '';
    if (domain !== '' && !this.domains.has(domain)) {
      this.domains.set(domain, domain === ML_DOMAIN ? ML_OPSET : 1);
    }
    this.nodes.push({
      input: inputs,
      output: outs,
      name: this.unique(options.name ?? opType),
      op_type: opType,
      ...(domain ? { domain } : {}),
      attribute: attributes,
    });
    return outs;
  }

  /** One-output node with a fresh output name derived from `base`. */
  op(opType: string, inputs: string[], base: string, attributes: Attribute[] = [], domain?: string): string {
    const out = this.unique(base);
    this.node(opType, inputs, [out], attributes, {
      name: `${base}/${opType}`,
      ...(domain ? { domain } : {}),
    });
    return out;
  }

  /** Which nodes read each value. */
  consumers(): Map<string, NodeMessage[]> {
    const map = new Map<string, NodeMessage[]>();
    for (const n of this.nodes) {
      for (const i of n.input) {
        if (i === '') continue;
        const list = map.get(i) ?? [];
        list.push(n);
        map.set(i, list);
      }
    }
    return map;
  }

  /**
   * A reader of values as the graph is now: the one node that reads a value that is not a graph output,
   * else undefined (rewrites that fuse a node into the next need it to be the value's only use).
   */
  soleReader(): (value: string) => NodeMessage | undefined {
    const outputs = new Set(this.outputs.map((o) => o.name));
    const consumers = this.consumers();
    return (value) => {
      const readers = consumers.get(value) ?? [];
      return readers.length === 1 && !outputs.has(value) ? readers[0] : undefined;
    };
  }

  /** Which node writes each value. */
  producers(): Map<string, NodeMessage> {
    const map = new Map<string, NodeMessage>();
    for (const n of this.nodes) for (const o of n.output) map.set(o, n);
    return map;
  }

  /** Drops initializers no node reads any more (after a rewrite replaced them). */
  pruneInitializers(): void {
    const read = new Set(this.nodes.flatMap((n) => n.input));
    for (const name of [...this.initializers.keys()]) if (!read.has(name)) this.initializers.delete(name);
  }

  toModel(meta: {
    producerVersion: string;
    docString?: string;
    metadata?: Record<string, string>;
  }): ModelMessage {
    return {
      ir_version: IR_VERSION,
      opset_import: [...this.domains.entries()].map(([domain, version]) => ({ domain, version })),
      producer_name: 'modelauto',
      producer_version: meta.producerVersion,
      ...(meta.docString ? { doc_string: meta.docString } : {}),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: [...this.initializers.values()].map(tensorMessage),
        input: this.inputs.map(valueInfoMessage),
        output: this.outputs.map(valueInfoMessage),
        ...(this.valueInfos.length ? { value_info: this.valueInfos.map(valueInfoMessage) } : {}),
      },
      metadata_props: Object.entries(meta.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
  }

  /** A deep copy, so a quantizer can rewrite without touching the float graph. */
  clone(): OnnxGraph {
    const g = new OnnxGraph(this.name);
    for (const n of this.nodes) g.nodes.push(structuredClone(n));
    for (const [k, v] of this.initializers) g.initializers.set(k, { ...v, dims: [...v.dims] });
    g.inputs.push(...this.inputs.map((i) => ({ ...i, shape: [...i.shape] })));
    g.outputs.push(...this.outputs.map((o) => ({ ...o, shape: [...o.shape] })));
    g.valueInfos.push(...this.valueInfos.map((o) => ({ ...o, shape: [...o.shape] })));
    for (const u of this.used) g.used.add(u);
    for (const [d, v] of this.domains) g.domains.set(d, v);
    return g;
  }
}

function valueInfoMessage(v: ValueInfo): ValueInfoMessage {
  const dim: DimensionMessage[] = v.shape.map((d) =>
    typeof d === 'number' ? { dim_value: d } : { dim_param: d },
  );
  return { name: v.name, type: { tensor_type: { elem_type: v.elemType, shape: { dim } } } };
}

/** Initializer values as little-endian raw bytes (strings go in string_data, as the schema requires). */
export function tensorMessage(t: Initializer): TensorMessage {
  if (Array.isArray(t.data)) {
    return {
      name: t.name,
      dims: t.dims,
      data_type: t.dataType,
      string_data: t.data.map((s) => new TextEncoder().encode(s)),
    };
  }
  const view = t.data as Exclude<InitializerData, string[]>;
  const bytes = new Uint8Array(view.byteLength);
  bytes.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return { name: t.name, dims: t.dims, data_type: t.dataType, raw_data: bytes };
}
