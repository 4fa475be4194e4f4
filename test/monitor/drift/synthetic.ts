import { Rng } from '../../../src/core/rng.js';
import type { ColumnarData } from '../../../src/monitor/drift/columnar.js';

/** Standard normal draws (Box-Muller) from a seeded generator. */
export function normals(rng: Rng, n: number, mean = 0, std = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - rng.next();
    const v = rng.next();
    out[i] = mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

/** Categories drawn with the given probabilities. */
export function categories(rng: Rng, n: number, probs: Record<string, number>): string[] {
  const entries = Object.entries(probs);
  return Array.from({ length: n }, () => {
    let u = rng.next();
    for (const [k, p] of entries) {
      if ((u -= p) < 0) return k;
    }
    return (entries[entries.length - 1] as [string, number])[0];
  });
}

export function table(
  numeric: Record<string, Float64Array>,
  categorical: Record<string, (string | null)[]> = {},
): ColumnarData {
  const rows = Object.values(numeric)[0]?.length ?? Object.values(categorical)[0]?.length ?? 0;
  return {
    rows,
    numeric: new Map(Object.entries(numeric)),
    categorical: new Map(Object.entries(categorical)),
  };
}
