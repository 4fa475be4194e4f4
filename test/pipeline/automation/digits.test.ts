/**
 * Injected shifts: rotation by multiples of 90° is an exact permutation of the pixels in the stated
 * direction, four quarter turns give the image back, inversion is 255 - v; shift specs parse as
 * documented; MNIST test digits come with their true labels.
 */
import { describe, expect, it } from 'vitest';
import {
  mnistTestDigits,
  shiftImages,
  ShiftSchema,
  type LabelledImages,
} from '../../../src/pipeline/automation/digits.js';

function image(values: (i: number) => number, n = 1, h = 4, w = 4): LabelledImages {
  return {
    n,
    shape: [h, w, 1],
    data: Uint8Array.from({ length: n * h * w }, (_, i) => values(i)),
    labels: Array.from({ length: n }, (_, i) => String(i)),
    description: 'test images',
  };
}

describe('shifts', () => {
  it('rotates a quarter turn counter-clockwise, exactly: the top-right corner goes to the top-left', () => {
    const img = image(() => 0);
    img.data[0 * 4 + 3] = 200; // top-right
    img.data[3 * 4 + 3] = 100; // bottom-right
    const r = shiftImages(img, { kind: 'rotate', angle: 90 });
    expect(r.data[0 * 4 + 0]).toBe(200); // top-left
    expect(r.data[0 * 4 + 3]).toBe(100); // top-right
    expect([...r.data].filter((v) => v !== 0).sort()).toEqual([100, 200]);
    expect(r.description).toBe('test images, rotated 90°');
    expect(img.data[3]).toBe(200); // the input is left as it is
  });

  it('keeps every pixel value and comes back after four quarter turns (several images)', () => {
    const square = image((i) => (i * 53) % 256, 2, 6, 6);
    let s = square;
    for (let k = 0; k < 4; k++) {
      s = shiftImages(s, { kind: 'rotate', angle: 90 });
      expect([...s.data].sort((a, b) => a - b)).toEqual([...square.data].sort((a, b) => a - b));
    }
    expect([...s.data]).toEqual([...square.data]);
    // A half turn of a non-square image keeps every pixel too.
    const wide = image((i) => (i * 37) % 256, 3, 5, 7);
    const half = shiftImages(wide, { kind: 'rotate', angle: 180 });
    expect([...half.data].sort((a, b) => a - b)).toEqual([...wide.data].sort((a, b) => a - b));
    expect(half.data[0]).toBe(wide.data[5 * 7 - 1]);
  });

  it('interpolates other angles and keeps integer pixels as bytes', () => {
    const r = shiftImages(
      image((i) => (i % 5) * 50),
      { kind: 'rotate', angle: 30 },
    );
    expect(r.data).toBeInstanceOf(Uint8Array);
    expect([...r.data].every((v) => v >= 0 && v <= 250)).toBe(true);
  });

  it('inverts 8-bit pixels; float images cannot be inverted', () => {
    const r = shiftImages(
      image((i) => i),
      { kind: 'invert', angle: 90 },
    );
    expect([...r.data]).toEqual(Array.from({ length: 16 }, (_, i) => 255 - i));
    const floats: LabelledImages = { ...image((i) => i), data: new Float32Array(16) };
    expect(() => shiftImages(floats, { kind: 'invert', angle: 90 })).toThrow(/8-bit pixel images/);
    expect(shiftImages(floats, { kind: 'none', angle: 90 })).toBe(floats);
  });

  it('refuses to rotate non-image shapes', () => {
    const flat: LabelledImages = { ...image((i) => i), shape: [16] };
    expect(() => shiftImages(flat, { kind: 'rotate', angle: 90 })).toThrow(/height, width/);
  });

  it('parses shift specs', () => {
    expect(ShiftSchema.parse('rotate')).toEqual({ kind: 'rotate', angle: 90 });
    expect(ShiftSchema.parse({ kind: 'rotate', angle: 45 })).toEqual({ kind: 'rotate', angle: 45 });
    expect(ShiftSchema.parse('none')).toEqual({ kind: 'none', angle: 90 });
    expect(ShiftSchema.safeParse('blur').success).toBe(false);
    expect(ShiftSchema.safeParse({ kind: 'rotate', angle: 720 }).success).toBe(false);
  });
});

describe('MNIST test digits', () => {
  it('slices the test set with labels and refuses rows past its end', async () => {
    const d = await mnistTestDigits(9990, 10);
    expect(d.n).toBe(10);
    expect(d.shape).toEqual([28, 28, 1]);
    expect(d.data.length).toBe(10 * 784);
    expect(d.labels.every((l) => /^\d$/.test(l))).toBe(true);
    expect(d.description).toBe('MNIST test digits rows 9990..9999');
    await expect(mnistTestDigits(9995, 10)).rejects.toThrow(/has 10000 rows: rows 9995..10004 do not exist/);
  });
});
