import { stridesOf } from './cpu-data.js';

/** NumPy-style broadcast of two shapes, or undefined when they are incompatible. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Element strides of `shape` viewed as `outShape` (right-aligned): 0 along broadcast axes.
 * Assumes `shape` broadcasts to `outShape`.
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(shape);
  const out = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < outShape.length; i++) {
    const k = shape.length - outShape.length + i;
    if (k < 0) continue;
    out[i] = (shape[k] ?? 1) === 1 ? 0 : (own[k] ?? 0);
  }
  return out;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Merges adjacent axes that every operand walks contiguously (stride[i] = stride[i+1] * dim[i+1],
 * or broadcast on both), and drops size-1 axes. Native loops then see the fewest, longest axes.
 */
export function coalesce(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i] ?? 1;
    if (d === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0) {
      const prevDim = outShape[last] ?? 1;
      const mergeable = strides.every((s, k) => {
        const prev = outStrides[k]?.[last] ?? 0;
        const cur = s[i] ?? 0;
        return prev === cur * d;
      });
      if (mergeable) {
        outShape[last] = prevDim * d;
        strides.forEach((s, k) => {
          const arr = outStrides[k];
          if (arr) arr[last] = s[i] ?? 0;
        });
        continue;
      }
    }
    outShape.push(d);
    strides.forEach((s, k) => outStrides[k]?.push(s[i] ?? 0));
  }
  return { shape: outShape, strides: outStrides };
}
