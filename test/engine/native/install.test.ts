import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { ModelautoError } from '../../../src/core/errors.js';
import {
  installNativeKernels,
  nativeStatus,
  setNativeThreads,
  uninstallNativeKernels,
} from '../../../src/engine/native/index.js';
import { describeNative, useCpu } from './helpers.js';

beforeAll(useCpu);

describeNative('installing the native kernels', () => {
  it('replaces the cpu kernels, idempotently, and uninstall restores tfjs originals', () => {
    uninstallNativeKernels();
    const original = tf.getKernel('BatchMatMul', 'cpu');
    const first = installNativeKernels();
    expect(first.available).toBe(true);
    expect(first.reason).toBeUndefined();
    const wrapped = tf.getKernel('BatchMatMul', 'cpu');
    expect(wrapped).not.toBe(original);
    installNativeKernels();
    expect(tf.getKernel('BatchMatMul', 'cpu')).toBe(wrapped);
    uninstallNativeKernels();
    expect(tf.getKernel('BatchMatMul', 'cpu')).toBe(original);
    expect(nativeStatus().available).toBe(false);
    installNativeKernels();
  });

  it('reports every native kernel with the instruction set and thread count', () => {
    const s = installNativeKernels({ threads: 2 });
    expect(['avx512', 'avx2-fma', 'portable']).toContain(s.isa);
    expect(s.threads).toBe(2);
    const names = s.kernels.map((k) => k.name);
    for (const k of [
      'BatchMatMul',
      '_FusedMatMul',
      'Conv2D',
      'Conv2DBackpropFilter',
      'MaxPoolGrad',
      'Softmax',
      'GatherV2',
      'Transpose',
    ])
      expect(names).toContain(k);
    expect(s.kernels.every((k) => k.native)).toBe(true);
    expect(s.kernels.find((k) => k.name === 'Conv2D')?.note).toMatch(/NHWC/);
  });

  it('sets the thread count and rejects invalid ones with a ModelautoError', () => {
    expect(setNativeThreads(1)).toBe(1);
    expect(nativeStatus().threads).toBe(1);
    expect(setNativeThreads(2)).toBe(2);
    expect(() => setNativeThreads(0)).toThrow(ModelautoError);
    expect(() => installNativeKernels({ threads: 1.5 })).toThrow(/thread count/);
  });
});

it('without the addon (MODELAUTO_NATIVE=0) everything runs on the JS kernels and the status says why', () => {
  const script = `
    import * as tf from '@tensorflow/tfjs';
    import { installNativeKernels } from ${JSON.stringify(fileURLToPath(new URL('../../../src/engine/native/index.ts', import.meta.url)))};
    await tf.setBackend('cpu');
    const s = installNativeKernels();
    const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync();
    console.log(JSON.stringify({ available: s.available, reason: s.reason, isa: s.isa, native: s.kernels.some((k) => k.native), y: Array.from(y) }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, MODELAUTO_NATIVE: '0' },
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  expect(JSON.parse(line)).toEqual({
    available: false,
    reason: 'disabled by MODELAUTO_NATIVE=0',
    isa: 'none',
    native: false,
    y: [3, 3, 3, 3],
  });
});
