import type { NativeKernel } from '../kernel.js';
import { convKernels } from './conv.js';
import { elementwiseKernels } from './elementwise.js';
import { layoutKernels } from './layout.js';
import { lossKernels } from './loss.js';
import { matmulKernels } from './matmul.js';
import { reduceKernels } from './reduce.js';
import { reluGradKernel } from './relu-grad.js';

/** Every kernel the addon replaces, in the order `modelauto doctor` lists them. */
export const NATIVE_KERNELS: readonly NativeKernel[] = [
  ...matmulKernels,
  ...convKernels,
  ...elementwiseKernels,
  ...reduceKernels,
  ...layoutKernels,
  reluGradKernel,
  ...lossKernels,
];
