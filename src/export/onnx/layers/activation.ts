import type * as tf from '@tensorflow/tfjs';
import { attr } from '../graph.js';
import { type ConvertContext, type Value, unsupported } from '../context.js';

/** tfjs's SELU constants (tfjs-core selu_util). */
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** Activation names tfjs writes in layer configs, each exported as ONNX nodes. */
export const EXPORTABLE_ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'elu',
  'selu',
  'sigmoid',
  'hardSigmoid',
  'softmax',
  'logSoftmax',
  'softplus',
  'softsign',
  'tanh',
  'swish',
  'mish',
  'gelu',
  'gelu_new',
] as const;

/** The channel axis of a value in its ONNX layout, for ops that work along tfjs's last axis. */
export function lastAxis(v: Value): number {
  return v.layout === 'nchw' ? 1 : v.shape.length - 1;
}

/** tfjs's last axis: -1 (ONNX's default, left out of compact files) unless the value is NCHW. */
function softmaxAxis(v: Value): number {
  return v.layout === 'nchw' ? lastAxis(v) : -1;
}

/**
 * Adds the nodes of a tfjs activation after `v`; the result keeps `v`'s layout (every activation is
 * elementwise except softmax, whose axis follows the layout). `base` names the output.
 */
export function activation(
  ctx: ConvertContext,
  layer: tf.layers.Layer,
  v: Value,
  name: string,
  base: string,
): Value {
  const g = ctx.graph;
  const x = v.name;
  const scalar = (label: string, value: number) => g.floats(`${base}_${label}`, [], [value]);
  let out: string;
  switch (name) {
    case 'linear':
      return v;
    case 'relu':
      out = g.op('Relu', [x], base);
      break;
    case 'relu6':
      out = g.op('Clip', [x, scalar('min', 0), scalar('max', 6)], base);
      break;
    case 'elu':
      out = g.op('Elu', [x], base, [attr.float('alpha', 1)]);
      break;
    case 'selu':
      out = g.op('Selu', [x], base, [attr.float('alpha', SELU_ALPHA), attr.float('gamma', SELU_SCALE)]);
      break;
    case 'sigmoid':
      out = g.op('Sigmoid', [x], base);
      break;
    case 'hardSigmoid':
      out = g.op('HardSigmoid', [x], base, [attr.float('alpha', 0.2), attr.float('beta', 0.5)]);
      break;
    case 'softmax':
      out = g.op('Softmax', [x], base, [attr.int('axis', softmaxAxis(v))]);
      break;
    case 'logSoftmax':
      out = g.op('LogSoftmax', [x], base, [attr.int('axis', softmaxAxis(v))]);
      break;
    case 'softplus':
      out = g.op('Softplus', [x], base);
      break;
    case 'softsign':
      out = g.op('Softsign', [x], base);
      break;
    case 'tanh':
      out = g.op('Tanh', [x], base);
      break;
    case 'swish':
      out = g.op('Mul', [x, g.op('Sigmoid', [x], `${base}_sigmoid`)], base);
      break;
    case 'mish': {
      // Mish is an operator only from opset 18: x * tanh(softplus(x)).
      const sp = g.op('Softplus', [x], `${base}_softplus`);
      out = g.op('Mul', [x, g.op('Tanh', [sp], `${base}_tanh`)], base);
      break;
    }
    case 'gelu': {
      // Exact GELU as tfjs computes it: x * 0.5 * (1 + erf(x / sqrt(2))) (Gelu is an operator only from opset 20).
      const erf = g.op(
        'Erf',
        [g.op('Div', [x, scalar('sqrt2', Math.SQRT2)], `${base}_scaled`)],
        `${base}_erf`,
      );
      const cdf = g.op(
        'Mul',
        [g.op('Add', [erf, scalar('one', 1)], `${base}_1perf`), scalar('half', 0.5)],
        `${base}_cdf`,
      );
      out = g.op('Mul', [x, cdf], base);
      break;
    }
    case 'gelu_new': {
      // tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
      const cube = g.op('Pow', [x, scalar('three', 3)], `${base}_cube`);
      const inner = g.op(
        'Add',
        [x, g.op('Mul', [cube, scalar('c', 0.044715)], `${base}_ccube`)],
        `${base}_inner`,
      );
      const t = g.op(
        'Tanh',
        [g.op('Mul', [inner, scalar('k', Math.sqrt(2 / Math.PI))], `${base}_kin`)],
        `${base}_tanh`,
      );
      const onePlus = g.op('Add', [t, scalar('one', 1)], `${base}_1pt`);
      out = g.op('Mul', [g.op('Mul', [x, onePlus], `${base}_x1pt`), scalar('half', 0.5)], base);
      break;
    }
    default:
      throw unsupported(
        layer,
        `activation "${name}" has no ONNX mapping (supported: ${EXPORTABLE_ACTIVATIONS.join(', ')})`,
      );
  }
  return { name: out, shape: v.shape, layout: v.layout };
}
