/**
 * Labelled images to send as traffic: MNIST test digits (the 10k images no model here trains on) or
 * the rows of a run's own data split, optionally with an injected shift — inverted (255 - pixel) or
 * rotated about the image centre. A shift is what the monitor should notice and a retrained model
 * should learn; the labels travel with the images so the traffic can post ground truth as feedback.
 */
import { z } from 'zod';
import { ModelautoError } from '../../core/errors.js';
import { loadBuiltin } from '../../data/builtin.js';
import { loadDataset } from '../../data/load.js';
import { splitDataset } from '../../data/split.js';
import type { Dataset } from '../../data/types.js';
import type { TrackingStore } from '../../store/tracking-store.js';
import { parseExperimentSpec } from '../../train/experiment.js';
import { ARTIFACTS } from '../bundle.js';

export const SHIFTS = ['none', 'invert', 'rotate'] as const;
export type ShiftKind = (typeof SHIFTS)[number];

export const ShiftSchema = z.union([
  z.enum(SHIFTS).transform((kind) => ({ kind, angle: 90 })),
  z.strictObject({
    kind: z.enum(SHIFTS),
    /** Degrees counter-clockwise (rotate only; default 90). */
    angle: z.number().min(-360).max(360).default(90),
  }),
]);
export type Shift = z.output<typeof ShiftSchema>;

/** Images (row-major, `shape` per image) with their class labels. */
export interface LabelledImages {
  n: number;
  shape: number[];
  data: Uint8Array | Float32Array;
  labels: string[];
  /** Where the rows come from, for messages and outputs. */
  description: string;
}

function itemSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Height, width and channels of an image shape ([h, w] or [h, w, c]). */
function imageDims(shape: readonly number[]): { h: number; w: number; c: number } {
  if (shape.length === 2) return { h: shape[0] as number, w: shape[1] as number, c: 1 };
  if (shape.length === 3) return { h: shape[0] as number, w: shape[1] as number, c: shape[2] as number };
  throw new ModelautoError(
    'INVALID_ARGUMENT',
    `rotate needs images of shape [height, width] or [height, width, channels], got [${shape.join(', ')}]`,
  );
}

/** One image rotated by `angle` degrees counter-clockwise about its centre (bilinear, zeros outside). */
function rotateOne(
  src: ArrayLike<number>,
  dst: Uint8Array | Float32Array,
  offset: number,
  dims: { h: number; w: number; c: number },
  angle: number,
  round: boolean,
): void {
  const { h, w, c } = dims;
  const rad = (angle * Math.PI) / 180;
  // Multiples of 90 degrees are exact permutations: snap the trigonometry so no pixel is interpolated.
  const snap = (v: number): number => (Math.abs(v - Math.round(v)) < 1e-12 ? Math.round(v) : v);
  const cos = snap(Math.cos(rad));
  const sin = snap(Math.sin(rad));
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  const at = (y: number, x: number, k: number): number =>
    y < 0 || y >= h || x < 0 || x >= w ? 0 : (src[offset + (y * w + x) * c + k] as number);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Inverse mapping: where in the source this output pixel comes from (rows grow downwards, so a
      // counter-clockwise turn on screen is a clockwise one in row/column coordinates).
      const dy = y - cy;
      const dx = x - cx;
      const sy = cy + sin * dx + cos * dy;
      const sx = cx + cos * dx - sin * dy;
      const y0 = Math.floor(sy);
      const x0 = Math.floor(sx);
      const fy = sy - y0;
      const fx = sx - x0;
      for (let k = 0; k < c; k++) {
        const v =
          (1 - fy) * ((1 - fx) * at(y0, x0, k) + fx * at(y0, x0 + 1, k)) +
          fy * ((1 - fx) * at(y0 + 1, x0, k) + fx * at(y0 + 1, x0 + 1, k));
        dst[offset + (y * w + x) * c + k] = round ? Math.round(v) : v;
      }
    }
  }
}

/** A copy of the images with the shift applied (the input is left as it is). */
export function shiftImages(images: LabelledImages, shift: Shift): LabelledImages {
  if (shift.kind === 'none') return images;
  const bytes = images.data instanceof Uint8Array;
  const out = bytes ? new Uint8Array(images.data.length) : new Float32Array(images.data.length);
  if (shift.kind === 'invert') {
    if (!bytes) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `invert needs 8-bit pixel images (0..255); ${images.description} holds float values`,
      );
    }
    for (let i = 0; i < out.length; i++) out[i] = 255 - (images.data[i] as number);
  } else {
    const dims = imageDims(images.shape);
    const d = itemSize(images.shape);
    for (let i = 0; i < images.n; i++) rotateOne(images.data, out, i * d, dims, shift.angle, bytes);
  }
  const what = shift.kind === 'invert' ? 'inverted' : `rotated ${shift.angle}°`;
  return { ...images, data: out, description: `${images.description}, ${what}` };
}

/** Rows [offset, offset + rows) of a tensor data set with their labels. */
function sliceImages(ds: Dataset, offset: number, rows: number, description: string): LabelledImages {
  if (ds.features.kind !== 'tensor' || ds.target.kind !== 'classification') {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `${description}: traffic needs image (tensor) features and class labels`,
    );
  }
  if (offset + rows > ds.n) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `${description} has ${ds.n} rows: rows ${offset}..${offset + rows - 1} do not exist (lower offset or rows)`,
    );
  }
  const d = itemSize(ds.features.shape);
  const { classes, y } = ds.target;
  return {
    n: rows,
    shape: [...ds.features.shape],
    data: ds.features.data.slice(offset * d, (offset + rows) * d),
    labels: Array.from(y.subarray(offset, offset + rows), (k) => classes[k] ?? String(k)),
    description: `${description} rows ${offset}..${offset + rows - 1}`,
  };
}

/** MNIST test digits [offset, offset + rows) (10,000 in all). */
export async function mnistTestDigits(offset: number, rows: number): Promise<LabelledImages> {
  const test = (await loadBuiltin('mnist', { limit: 1 })).predefinedTest;
  if (!test) throw new ModelautoError('INTERNAL', 'the built-in MNIST has no test set');
  return sliceImages(test, offset, rows, 'MNIST test digits');
}

/**
 * Rows of a trained run's split (re-created from its recorded spec and seed), e.g. its test split: the
 * holdout the gate judged it on, replayed through a server.
 */
export async function runSplitImages(
  store: TrackingStore,
  runId: string,
  split: 'train' | 'validation' | 'test',
  offset: number,
  rows: number | undefined,
): Promise<LabelledImages> {
  const run = await store.getRun(runId);
  const spec = parseExperimentSpec(
    JSON.parse((await store.readArtifact(runId, ARTIFACTS.spec)).toString('utf8')),
  );
  const specDir = typeof run.params['specDir'] === 'string' ? run.params['specDir'] : process.cwd();
  const data = splitDataset(await loadDataset(spec.data, { baseDir: specDir }), spec.data.split)[split];
  return sliceImages(data, offset, rows ?? data.n - offset, `the ${split} split of run ${runId.slice(0, 8)}`);
}
