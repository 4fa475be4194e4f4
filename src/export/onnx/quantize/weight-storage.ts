import { attr, type OnnxGraph } from '../graph.js';
import { DataType, type NodeMessage } from '../proto.js';
import { quantizeWeights } from './params.js';

/**
 * Int8 storage for the weight of an op that computes in float: the int8 values and one scale per output
 * channel (the same symmetric scheme as the int8 kernels' weights), turned back into float by
 * Cast → Mul. Both nodes read only initializers, so onnxruntime folds them into a float initializer when it
 * loads the model, and the op then runs exactly as in the float model, on its fastest kernels (NCHWc
 * convolutions). A DequantizeLinear would mean the same, but onnxruntime keeps DequantizeLinear nodes
 * unfolded for its QDQ fusions, and a convolution whose weight is not a constant loses the NCHWc layout
 * (about 3x slower on the small MNIST CNN).
 *
 * `axis` is the output-channel axis of the weight (0 for Conv, 1 for a MatMul/Gemm [in, out] matrix).
 */
export function storeWeightInt8(
  g: OnnxGraph,
  node: NodeMessage,
  wIndex: number,
  axis: number,
  bits: 7 | 8,
): boolean {
  const w = g.initializers.get(node.input[wIndex] as string);
  if (!w || !(w.data instanceof Float32Array) || w.dims.length < 2) return false;
  const { q, scales } = quantizeWeights(w.data, w.dims, axis, bits);
  const qName = g.initializer(`${w.name}_int8`, DataType.INT8, w.dims, q);
  // Scales shaped to broadcast along the channel axis: [C, 1, 1, 1] for a conv kernel, [C] for [in, out].
  const scaleDims = w.dims.map((d, i) => (i === axis ? d : 1)).slice(axis);
  const sName = g.floats(`${w.name}_scale`, scaleDims, scales);
  const cast = g.unique(`${w.name}_cast`);
  const value = g.unique(`${w.name}_stored`);
  g.nodes.splice(
    g.nodes.indexOf(node),
    0,
    {
      input: [qName],
      output: [cast],
      name: g.unique(`${w.name}/Cast`),
      op_type: 'Cast',
      attribute: [attr.int('to', DataType.FLOAT)],
    },
    { input: [cast, sName], output: [value], name: g.unique(`${w.name}/Mul`), op_type: 'Mul', attribute: [] },
  );
  node.input[wIndex] = value;
  return true;
}
