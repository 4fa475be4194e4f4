/**
 * Server options, with the defaults `modelauto serve` uses. Validated once at start; the messages name
 * the option and what was expected.
 */
import { z } from 'zod';
import { AliasSchema, ModelNameSchema } from '../store/registry.js';
import { INFERENCE_THREADS, PRECISIONS, RUNTIME_CHOICES } from './loader.js';

const int = (what: string) => z.int(`${what}: expected an integer`);

export const ServeOptionsSchema = z
  .strictObject({
    /** Store URI (folder, sqlite:, postgres://); default $MODELAUTO_STORE or ./.modelauto. */
    store: z.string().min(1).optional(),
    host: z.string().min(1).default('127.0.0.1'),
    /** 0 picks a free port. */
    port: int('port').min(0).max(65535).default(8501),
    /** Served models; default every registered model. */
    models: z
      .array(ModelNameSchema)
      .min(1, 'models: name at least one model, or leave it out to serve all')
      .optional(),
    /** Most rows per inference run. */
    maxBatch: int('maxBatch').positive().max(65_536).default(64),
    /**
     * Longest wait of the oldest queued row for its batch to fill (ms, fractions allowed); the server
     * does not wait when no other request is on its way.
     */
    maxDelayMs: z.number().min(0).max(10_000).default(2),
    /** Most rows waiting per version; beyond it requests get 503 with Retry-After. */
    queue: int('queue').positive().max(10_000_000).default(1024),
    /** Most rows in one request (default: the queue size). */
    maxRequestRows: int('maxRequestRows').positive().optional(),
    /** Per-request deadline; later requests get 504. */
    requestTimeoutMs: int('requestTimeoutMs').positive().default(10_000),
    /** Largest request body in bytes. */
    bodyLimit: int('bodyLimit')
      .positive()
      .default(16 * 1024 * 1024),
    /** onnxruntime intra-op threads per session (0: onnxruntime's default). */
    threads: int('threads').min(0).max(256).default(1),
    /**
     * Where ONNX sessions run: 'main' (the server's thread) or 'worker' (an inference thread per version:
     * the server's thread keeps answering while a batch runs, which pays where cores are to spare; on 2
     * cores shared with the load generator, bench:serve measured it no faster and using more CPU).
     */
    inferenceThread: z.enum(INFERENCE_THREADS).default('main'),
    runtime: z.enum(RUNTIME_CHOICES).default('auto'),
    precision: z.enum(PRECISIONS).default('float'),
    /** How often the registry is read for alias moves (0: only admin moves are followed). */
    pollIntervalMs: int('pollIntervalMs').min(0).default(1000),
    /** Bearer token of the admin API; default $MODELAUTO_ADMIN_TOKEN; none: admin API off. */
    adminToken: z.string().optional(),
    defaultAlias: AliasSchema.default('champion'),
    challengerAlias: AliasSchema.default('challenger'),
    /** JSON Lines file for shadow-mode records. */
    shadowLog: z.string().min(1).optional(),
    /** Longest wait for requests in flight at shutdown. */
    drainTimeoutMs: int('drainTimeoutMs').positive().default(30_000),
  })
  .refine((o) => o.maxRequestRows === undefined || o.maxRequestRows <= o.queue, {
    message: 'maxRequestRows: must not exceed queue (a request larger than the queue could never run)',
    path: ['maxRequestRows'],
  })
  .refine((o) => o.maxBatch <= o.queue, { message: 'maxBatch: must not exceed queue', path: ['maxBatch'] });

export type ServeOptionsInput = z.input<typeof ServeOptionsSchema>;
export type ServeOptions = z.output<typeof ServeOptionsSchema>;
