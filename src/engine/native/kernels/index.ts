import type { NativeKernel } from '../kernel.js';
import { matmulKernels } from './matmul.js';

/** Every kernel the addon replaces, in the order `modelauto doctor` lists them. */
export const NATIVE_KERNELS: readonly NativeKernel[] = [...matmulKernels];
