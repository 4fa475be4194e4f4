import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ModelautoError } from '../core/errors.js';
import { installNativeKernels, nativeStatus, uninstallNativeKernels } from './native/index.js';

/**
 * The one place where the compute backend is chosen and set up. `native` is tfjs's cpu backend with
 * modelauto's C++ kernels registered over the JS ones (falling back per call where a kernel does not
 * cover a dtype or attribute); `cpu` is tfjs's pure-JS kernels; `wasm` is tfjs's wasm backend.
 */
export const BACKENDS = ['auto', 'native', 'cpu', 'wasm'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export interface BackendRequest {
  /** 'auto' (default, or MODELAUTO_BACKEND): native kernels when the addon is built, else the fastest JS option. */
  backend?: BackendChoice;
  /** Whether training needs convolution/pooling gradients, which tfjs's wasm backend lacks. */
  needsConvGradients?: boolean;
}

export interface BackendInfo {
  /** 'native', 'cpu' or 'wasm'. */
  name: Exclude<BackendChoice, 'auto'>;
  reason: string;
}

let current: BackendInfo | undefined;

// Importing the wasm backend registers it with a higher priority than cpu, and it initialises
// asynchronously: tfjs would then fail on the first synchronous op. Start on cpu (synchronous to set)
// until setupBackend picks the backend for the job.
void tf.setBackend('cpu');
quietCpuBanner();

export function parseBackendChoice(value: string, source: string): BackendChoice {
  if ((BACKENDS as readonly string[]).includes(value)) return value as BackendChoice;
  throw new ModelautoError(
    'USAGE',
    `${source}: unknown backend "${value}"; expected one of ${BACKENDS.join(', ')}`,
  );
}

export async function setupBackend(request: BackendRequest = {}): Promise<BackendInfo> {
  const env = process.env['MODELAUTO_BACKEND'];
  const choice = request.backend ?? (env ? parseBackendChoice(env, 'MODELAUTO_BACKEND') : 'auto');
  let info: BackendInfo;
  if (choice === 'auto') {
    const native = installNativeKernels();
    if (native.available) {
      info = { name: 'native', reason: `auto: native kernels (${native.isa}, ${native.threads} threads)` };
    } else if (request.needsConvGradients) {
      info = {
        name: 'cpu',
        reason: `auto: native kernels unavailable (${native.reason ?? 'unknown'}); the model trains convolutions, whose gradients only the cpu backend has`,
      };
    } else {
      info = {
        name: 'wasm',
        reason: `auto: native kernels unavailable (${native.reason ?? 'unknown'}); wasm is the fastest JS backend for this model`,
      };
    }
  } else if (choice === 'native') {
    const native = installNativeKernels();
    if (!native.available) {
      throw new ModelautoError(
        'UNAVAILABLE',
        `backend native: ${native.reason ?? 'the addon is not available'}`,
      );
    }
    info = { name: 'native', reason: `chosen explicitly (${native.isa}, ${native.threads} threads)` };
  } else {
    info = { name: choice, reason: 'chosen explicitly' };
  }
  if (request.needsConvGradients && info.name === 'wasm') {
    throw new ModelautoError(
      'USAGE',
      'backend wasm cannot train this model: it has no Conv2DBackpropFilter/pooling gradient kernels; use native, cpu or auto',
    );
  }
  // The native kernels live inside tfjs's cpu backend; any other choice gets tfjs's own kernels back.
  if (info.name !== 'native' && nativeStatus().available) uninstallNativeKernels();
  const tfName = info.name === 'native' ? 'cpu' : info.name;
  if (tf.getBackend() !== tfName) {
    const ok = await tf.setBackend(tfName);
    if (!ok) throw new ModelautoError('UNAVAILABLE', `backend ${tfName} failed to initialise`);
  }
  await tf.ready();
  quietCpuBanner();
  current = info;
  return info;
}

export function backendInfo(): BackendInfo | undefined {
  return current;
}

/** tfjs's cpu backend prints an advert for tfjs-node on first use; modelauto cannot install that here. */
export function quietCpuBanner(): void {
  // findBackend creates the backend instance if needed, so this works before any tensor exists.
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}
