/**
 * The prediction log contract: a sample of the requests a server answered (request id, model version,
 * time, inputs or their summary, outputs, latency) and the ground-truth labels clients attach to them
 * later (feedback). It lives in the same database as the registry (SQLite file or PostgreSQL schema),
 * in its own tables with their own migration track, and is bounded: `prune` drops records by age and
 * keeps at most a number of them (their labels go with them).
 *
 * Semantics every backend keeps (the contract suite checks them):
 * - a record is keyed by (model, request id); a request id logged again replaces the earlier record
 *   and drops its labels (clients that reuse ids get the latest request);
 * - `label` is all or nothing: an unknown request id (NOT_FOUND, naming the id), a row out of range, or
 *   a label that is not one of the version's classes (INVALID_ARGUMENT) rejects the whole batch;
 * - labelling a (request, row) twice keeps the last label (and its time): last wins, also within one batch.
 */
import { z } from 'zod';
import { ModelNameSchema, VersionNumberSchema } from './registry.js';

export const PREDICTION_PROTOCOLS = ['tfserving', 'oip'] as const;

const RequestIdSchema = z
  .string()
  .min(1, 'expected a non-empty request id')
  .max(256, 'expected a request id of at most 256 characters');

const EpochMsSchema = z.number().int('expected epoch milliseconds').nonnegative();

export const PredictionRecordSchema = z.strictObject({
  requestId: RequestIdSchema,
  model: ModelNameSchema,
  version: VersionNumberSchema,
  /** When the request arrived (epoch ms). */
  time: EpochMsSchema,
  protocol: z.enum(PREDICTION_PROTOCOLS),
  rows: z.int().positive(),
  /** Request duration in milliseconds. */
  latencyMs: z.number().nonnegative(),
  /** The inputs as the monitor encodes them (JSON); see src/monitor/live/record.ts. */
  inputs: z.unknown(),
  /** The outputs as the monitor encodes them (JSON). */
  outputs: z.unknown(),
  /** Predicted class per row (classifiers), null otherwise. */
  predicted: z.array(z.string()).nullable(),
  /** Class names of the version in output order (classifiers), null otherwise; feedback is checked against them. */
  classes: z.array(z.string()).nullable(),
});
export type PredictionRecord = z.output<typeof PredictionRecordSchema>;

export const FeedbackLabelSchema = z.strictObject({
  requestId: RequestIdSchema,
  /** Row of a multi-row request; may be left out for single-row requests. */
  row: z.int('expected an integer row').nonnegative('expected a row >= 0').optional(),
  label: z.string().min(1, 'expected a non-empty label').max(1024),
});
export type FeedbackLabel = z.output<typeof FeedbackLabelSchema>;

/** A labelled prediction: one row of a logged request with its ground truth. */
export interface LabelledPrediction {
  model: string;
  version: number;
  requestId: string;
  row: number;
  /** What the model predicted for the row. */
  predicted: string;
  label: string;
  /** When the request arrived. */
  predictedAt: number;
  /** When the (last) label arrived. */
  labelledAt: number;
}

export interface LabelledQuery {
  /** Only this version. */
  version?: number;
  /** The latest `limit` labels (by label time). */
  limit: number;
  /** Only labels given at or after this time (epoch ms). */
  since?: number;
}

export interface PruneLimits {
  /** Records kept at most (the newest). */
  maxRows: number;
  /** Records older than this (relative to `now`) are dropped. */
  maxAgeMs: number;
  now: number;
}

export interface PredictionLog {
  /** Where it is, for messages (no password). */
  readonly location: string;
  /** Writes records in one transaction. */
  append(records: readonly PredictionRecord[]): Promise<void>;
  get(model: string, requestId: string): Promise<PredictionRecord | null>;
  /** The newest `limit` records of a model, newest first. */
  list(model: string, options: { limit: number; version?: number }): Promise<PredictionRecord[]>;
  /** Records of a model, or of every model. */
  count(model?: string): Promise<number>;
  /** Attaches labels at time `at`; all or nothing. Returns the labelled rows in input order. */
  label(model: string, labels: readonly FeedbackLabel[], at: number): Promise<LabelledPrediction[]>;
  /** Labelled rows of a model, oldest label first, within the query's bounds. */
  labelled(model: string, query: LabelledQuery): Promise<LabelledPrediction[]>;
  /** Applies the retention limits; returns the number of records dropped. */
  prune(limits: PruneLimits): Promise<number>;
  close(): Promise<void>;
}
