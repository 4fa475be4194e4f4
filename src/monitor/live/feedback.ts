/**
 * Ground-truth labels for logged predictions (feedback), as the HTTP API and the CSV file carry them:
 *
 *   POST /v1/models/{model}/feedback
 *   {"labels": [{"request_id": "3f2a...", "label": "7"}, {"request_id": "b1", "row": 2, "label": "cat"}]}
 *
 * `row` picks one row of a multi-row request (0-based) and may be left out for single-row requests. A
 * label may be a string or a number (sent as its decimal text). A (request, row) labelled again keeps
 * the last label: last wins, also within one body. The batch is all or nothing: an unknown request
 * id is a 404 naming it, a bad row or a label that is not one of the version's classes a 400.
 *
 * The CSV form has a header with `request_id` and `label`, and optionally `row`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ModelautoError } from '../../core/errors.js';
import { formatZodError } from '../../core/zod-error.js';
import { parseCsv } from '../../data/csv-parse.js';
import type { FeedbackLabel } from '../../store/prediction-log.js';

/** Most labels in one request body (bulk clients send several bodies). */
export const MAX_FEEDBACK_LABELS = 10_000;

const LabelValue = z
  .union([z.string(), z.number().refine(Number.isFinite, 'expected a finite number')], {
    error: 'expected the class label as a string (or a number)',
  })
  .transform((v) => String(v))
  .refine((v) => v.length > 0 && v.length <= 1024, 'expected a label of 1-1024 characters');

export const FeedbackBodySchema = z.strictObject({
  labels: z
    .array(
      z.strictObject({
        request_id: z
          .string({ error: 'expected the request id as a string' })
          .min(1, 'expected a non-empty request id')
          .max(256, 'expected a request id of at most 256 characters'),
        row: z.int('expected an integer row').nonnegative('expected a row >= 0').optional(),
        label: LabelValue,
      }),
    )
    .min(1, 'expected at least one label')
    .max(MAX_FEEDBACK_LABELS, `expected at most ${MAX_FEEDBACK_LABELS} labels per request; send several`),
});
export type FeedbackBody = z.input<typeof FeedbackBodySchema>;

/** Validates a feedback request body. */
export function parseFeedbackBody(body: unknown): FeedbackLabel[] {
  const r = FeedbackBodySchema.safeParse(body);
  if (!r.success) throw new ModelautoError('INVALID_ARGUMENT', formatZodError(r.error, 'body'));
  return r.data.labels.map((l) => ({
    requestId: l.request_id,
    label: l.label,
    ...(l.row !== undefined ? { row: l.row } : {}),
  }));
}

/** The body that carries `labels` (the inverse of parseFeedbackBody). */
export function feedbackBody(labels: readonly FeedbackLabel[]): FeedbackBody {
  return {
    labels: labels.map((l) => ({
      request_id: l.requestId,
      label: l.label,
      ...(l.row !== undefined ? { row: l.row } : {}),
    })),
  };
}

const CSV_COLUMNS = ['request_id', 'label', 'row'];

/** Reads labels from a CSV file with the columns request_id, label and optionally row. */
export function readFeedbackCsv(file: string): FeedbackLabel[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelautoError('NOT_FOUND', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`, {
      cause: e,
    });
  }
  const [header, ...records] = parseCsv(text, file);
  if (!header)
    throw new ModelautoError('INVALID_DATA', 'the file is empty; expected a header request_id,label[,row]', {
      location: { file },
    });
  const names = header.fields.map((f) => f.trim());
  const unknown = names.find((n) => !CSV_COLUMNS.includes(n));
  if (unknown !== undefined) {
    throw new ModelautoError(
      'INVALID_DATA',
      `unknown column ${JSON.stringify(unknown)}; expected request_id, label and optionally row`,
      { location: { file, line: header.line } },
    );
  }
  for (const required of ['request_id', 'label']) {
    if (!names.includes(required)) {
      throw new ModelautoError(
        'INVALID_DATA',
        `missing column ${required}; expected request_id, label and optionally row`,
        {
          location: { file, line: header.line },
        },
      );
    }
  }
  const at = (name: string) => names.indexOf(name);
  if (records.length === 0) {
    throw new ModelautoError('INVALID_DATA', 'no labels: the file has a header and nothing else', {
      location: { file },
    });
  }
  return records.map((rec) => {
    if (rec.fields.length !== names.length) {
      throw new ModelautoError(
        'INVALID_DATA',
        `expected ${names.length} fields, found ${rec.fields.length}`,
        {
          location: { file, line: rec.line },
        },
      );
    }
    const field = (name: string) => (rec.fields[at(name)] ?? '').trim();
    const requestId = field('request_id');
    const label = field('label');
    for (const [column, value] of [
      ['request_id', requestId],
      ['label', label],
    ] as const) {
      if (value === '') {
        throw new ModelautoError('INVALID_DATA', 'empty value; every row needs a request id and a label', {
          location: { file, line: rec.line, column },
        });
      }
    }
    const rowText = at('row') >= 0 ? field('row') : '';
    if (rowText !== '' && !/^\d+$/.test(rowText)) {
      throw new ModelautoError('INVALID_DATA', `expected a row number >= 0, got ${JSON.stringify(rowText)}`, {
        location: { file, line: rec.line, column: 'row' },
      });
    }
    return { requestId, label, ...(rowText !== '' ? { row: Number(rowText) } : {}) };
  });
}
