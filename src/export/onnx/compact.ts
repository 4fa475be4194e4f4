import { createHash } from 'node:crypto';
import type { AttributeMessage, ModelMessage, NodeMessage, TensorMessage } from './proto.js';

/**
 * The same model in fewer bytes, for files whose weights are small (an int8 MNIST CNN holds 13 KB of
 * weights, and its descriptive names took another 7 KB):
 * - every value and initializer that is not a graph input or output gets a short id (`a`, `b`, ...,
 *   `ba`, ...) in order of first use, and nodes lose their names (optional in ONNX). Graph inputs and
 *   outputs, which callers feed and read by name, keep theirs;
 * - attributes equal to their ONNX default (strides 1, pads 0, group 1, ...) are left out;
 * - an Identity that only renames a node's output to a graph output is folded into that node;
 * - identical constant initializers (the same activation scale after a MaxPool, a Transpose and a Flatten)
 *   are written once.
 * The computation is unchanged.
 */
export function compactNames(model: ModelMessage): ModelMessage {
  const g = model.graph;
  const keep = new Set([...g.input, ...g.output].map((v) => v.name));
  const nodes = foldOutputIdentities(g.node, keep);
  const alias = duplicateInitializers(g.initializer);
  const ids = new Map<string, string>();
  let next = 0;
  const rename = (original: string): string => {
    const name = alias.get(original) ?? original;
    if (name === '' || keep.has(name)) return name;
    let id = ids.get(name);
    if (id === undefined) {
      // A kept name can look like an id (an input called "a"): such ids are skipped.
      do id = shortId(next++);
      while (keep.has(id));
      ids.set(name, id);
    }
    return id;
  };
  const node = nodes.map((n): NodeMessage => {
    const { name: _name, ...rest } = n;
    // Without the name property nothing is written for it.
    return {
      ...rest,
      input: n.input.map(rename),
      output: n.output.map(rename),
      attribute: n.attribute.filter((a) => !isDefault(n.op_type, a)),
    } as NodeMessage;
  });
  return {
    ...model,
    graph: {
      ...g,
      node,
      initializer: g.initializer
        .filter((t) => !alias.has(t.name))
        .map((t) => ({ ...t, name: rename(t.name) })),
      ...(g.value_info ? { value_info: g.value_info.map((v) => ({ ...v, name: rename(v.name) })) } : {}),
    },
  };
}

/** 0 → a, 25 → z, 26 → ba: letters only, so that every id is a valid C identifier as ONNX asks. */
function shortId(n: number): string {
  let s = '';
  let v = n;
  do {
    s = String.fromCharCode(97 + (v % 26)) + s;
    v = Math.floor(v / 26);
  } while (v > 0);
  return s;
}

const ones = (a: AttributeMessage) => (a.ints ?? []).every((v) => v === 1);
const zeros = (a: AttributeMessage) => (a.ints ?? []).every((v) => v === 0);
const intIs = (v: number) => (a: AttributeMessage) => a.i === v;
const floatIs = (v: number) => (a: AttributeMessage) => a.f === v;

/** Attributes whose value is the operator's default (ONNX operator docs, opset 17). */
const DEFAULTS: Record<string, Record<string, (a: AttributeMessage) => boolean>> = {
  Conv: { strides: ones, dilations: ones, pads: zeros, group: intIs(1) },
  QLinearConv: { strides: ones, dilations: ones, pads: zeros, group: intIs(1) },
  MaxPool: { strides: ones, dilations: ones, pads: zeros, ceil_mode: intIs(0), storage_order: intIs(0) },
  AveragePool: { strides: ones, pads: zeros, ceil_mode: intIs(0), count_include_pad: intIs(0) },
  Gemm: { alpha: floatIs(1), beta: floatIs(1), transA: intIs(0), transB: intIs(0) },
  Softmax: { axis: intIs(-1) },
  Flatten: { axis: intIs(1) },
};

function isDefault(op: string, a: AttributeMessage): boolean {
  return DEFAULTS[op]?.[a.name]?.(a) ?? false;
}

/**
 * `x → Identity → output` where x has no other reader and is no graph input/output: the node that
 * writes x writes the graph output directly.
 */
function foldOutputIdentities(nodes: NodeMessage[], keep: Set<string>): NodeMessage[] {
  const readers = new Map<string, number>();
  for (const n of nodes) for (const i of n.input) readers.set(i, (readers.get(i) ?? 0) + 1);
  const producer = new Map<string, NodeMessage>();
  for (const n of nodes) for (const o of n.output) producer.set(o, n);
  const renamed = new Map<NodeMessage, NodeMessage>();
  const dropped = new Set<NodeMessage>();
  for (const n of nodes) {
    const x = n.input[0] as string;
    const y = n.output[0] as string;
    const p = producer.get(x);
    if (n.op_type !== 'Identity' || !keep.has(y) || keep.has(x) || readers.get(x) !== 1 || !p) continue;
    const base = renamed.get(p) ?? p;
    renamed.set(p, { ...base, output: base.output.map((o) => (o === x ? y : o)) });
    dropped.add(n);
  }
  return nodes.filter((n) => !dropped.has(n)).map((n) => renamed.get(n) ?? n);
}

/** Later copies of an identical initializer (same type, shape and bytes) → the first one's name. */
function duplicateInitializers(initializers: TensorMessage[]): Map<string, string> {
  const first = new Map<string, string>();
  const alias = new Map<string, string>();
  for (const t of initializers) {
    if (!t.raw_data) continue;
    const key = `${t.data_type}|${t.dims.join(',')}|${createHash('sha256').update(t.raw_data).digest('hex')}`;
    const known = first.get(key);
    if (known === undefined) first.set(key, t.name);
    else alias.set(t.name, known);
  }
  return alias;
}
