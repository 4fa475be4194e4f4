import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../engine/backend.js';
import { installNativeKernels, type NativeStatus } from '../engine/native/index.js';
import { withStore, type StoreOption } from './runs.js';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DoctorReport {
  checks: DoctorCheck[];
  /** Which kernels are native, and why the others are not (per-kernel notes and fallback counts). */
  native: NativeStatus;
}

/** Checks what modelauto needs at run time and says what is wrong, not just that something is. */
export async function diagnose(options: StoreOption = {}): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  checks.push({ name: 'node', ok: major >= 20, detail: `v${process.versions.node} (needs >= 20)` });
  checks.push({ name: 'tfjs', ok: true, detail: `@tensorflow/tfjs ${tf.version.tfjs}` });
  const native = installNativeKernels();
  checks.push({
    name: 'native kernels',
    ok: native.available,
    detail: native.available
      ? `${native.isa}, ${native.threads} threads, ${native.kernels.filter((k) => k.native).length} kernels native`
      : `not available: ${native.reason ?? 'unknown'} (everything still runs on tfjs's JS kernels)`,
  });
  for (const backend of ['native', 'cpu', 'wasm'] as const) {
    if (backend === 'native' && !native.available) continue;
    try {
      const info = await setupBackend({ backend });
      const t = tf.tensor([1, 2, 3]).square();
      const v = Array.from(await t.data());
      t.dispose();
      const ok = v.join(',') === '1,4,9';
      checks.push({
        name: `backend ${backend}`,
        ok,
        detail: ok ? `works (${info.reason})` : `wrong result ${v.join(',')}`,
      });
    } catch (e) {
      checks.push({ name: `backend ${backend}`, ok: false, detail: (e as Error).message });
    }
  }
  try {
    await withStore(options, async (store) => {
      const runs = await store.listRuns({ limit: 1 });
      checks.push({
        name: 'tracking store',
        ok: true,
        detail: `${store.location} (${runs.length ? 'has runs' : 'empty'})`,
      });
    });
  } catch (e) {
    checks.push({ name: 'tracking store', ok: false, detail: (e as Error).message });
  }
  return { checks, native };
}
