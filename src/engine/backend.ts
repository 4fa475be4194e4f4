import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ModelautoError } from '../core/errors.js';

/**
 * The one place where the compute backend is chosen and set up. Later work swaps tfjs's CPU kernels
 * for native ones here; nothing else in the code base knows which backend runs.
 */
export const BACKENDS = ['auto', 'cpu', 'wasm'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export interface BackendRequest {
  /** 'auto' (default, or MODELAUTO_BACKEND): the fastest backend that has every kernel the model needs. */
  backend?: BackendChoice;
  /** Whether training needs convolution/pooling gradients, which tfjs's wasm backend lacks. */
  needsConvGradients?: boolean;
}

export interface BackendInfo {
  name: string;
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
  let name: string;
  let reason: string;
  if (choice === 'auto') {
    if (request.needsConvGradients) {
      name = 'cpu';
      reason = 'auto: the model trains convolutions or pooling, whose gradients only the cpu backend has';
    } else {
      name = 'wasm';
      reason = 'auto: wasm is the fastest backend with every kernel this model needs';
    }
  } else {
    name = choice;
    reason = 'chosen explicitly';
  }
  if (request.needsConvGradients && name === 'wasm') {
    throw new ModelautoError(
      'USAGE',
      'backend wasm cannot train this model: it has no Conv2DBackpropFilter/pooling gradient kernels; use cpu or auto',
    );
  }
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new ModelautoError('UNAVAILABLE', `backend ${name} failed to initialise`);
  }
  await tf.ready();
  quietCpuBanner();
  current = { name, reason };
  return current;
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
