import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ModelautoError } from '../../core/errors.js';
import { formatZodError } from '../../core/zod-error.js';
import { buildHistogram, type HistogramOptions } from './histogram.js';
import { encodeEvent, FILE_VERSION, type EventToWrite } from './proto.js';
import { frameRecord } from './record.js';

export const EventFileWriterOptionsSchema = z.strictObject({
  /** Appended to the file name after the hostname; tfjs-node's default is ".v2". */
  filenameSuffix: z
    .string()
    .regex(/^[^/\\\0]*$/, 'must not contain "/", "\\" or NUL')
    .default('.v2'),
  /** Buffered bytes that trigger a write to disk. */
  flushBytes: z
    .number()
    .int()
    .nonnegative()
    .default(16 * 1024),
  /** A write this long after the last flush flushes too (checked on writes; no timer runs). */
  flushMillis: z.number().nonnegative().default(2000),
});
export type EventFileWriterOptions = z.input<typeof EventFileWriterOptionsSchema>;

function parseOptions(options: EventFileWriterOptions): z.infer<typeof EventFileWriterOptionsSchema> {
  const r = EventFileWriterOptionsSchema.safeParse(options);
  if (!r.success) throw new ModelautoError('INVALID_ARGUMENT', formatZodError(r.error, 'options'));
  return r.data;
}

/** `events.out.tfevents.<10-digit unix seconds>.<hostname><suffix>`, as TensorFlow names them. */
export function eventFileName(unixSeconds: number, host: string, suffix: string): string {
  return `events.out.tfevents.${String(Math.floor(unixSeconds)).padStart(10, '0')}.${host}${suffix}`;
}

function ioError(action: string, file: string, e: unknown): ModelautoError {
  const reason = e instanceof Error ? e.message : String(e);
  return new ModelautoError('IO', `cannot ${action}: ${reason}`, { location: { file }, cause: e });
}

/**
 * Appends TFRecord-framed Event protos to a new event file. Writes are synchronous and go through
 * a small buffer, so a crash loses at most the unflushed tail; the file_version record is on disk
 * as soon as the constructor returns, so TensorBoard sees the run at once.
 */
export class EventFileWriter {
  readonly path: string;
  private fd: number | undefined;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private lastFlush = Date.now();
  private readonly options: z.infer<typeof EventFileWriterOptionsSchema>;

  constructor(
    readonly dir: string,
    options: EventFileWriterOptions = {},
  ) {
    this.options = parseOptions(options);
    const now = Date.now() / 1000;
    this.path = join(dir, eventFileName(now, hostname(), this.options.filenameSuffix));
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw ioError('create the log directory', dir, e);
    }
    try {
      // 'wx': never append to or clobber another writer's file.
      this.fd = openSync(this.path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new ModelautoError(
          'CONFLICT',
          'event file already exists (another writer opened this directory within the same second); ' +
            'pass a distinct filenameSuffix',
          { location: { file: this.path }, cause: e },
        );
      }
      throw ioError('create the event file', this.path, e);
    }
    this.write({ wallTime: now, step: 0, fileVersion: FILE_VERSION });
    this.flush();
  }

  get closed(): boolean {
    return this.fd === undefined;
  }

  write(event: EventToWrite): void {
    this.assertOpen();
    const record = frameRecord(encodeEvent(event));
    this.pending.push(record);
    this.pendingBytes += record.length;
    if (
      this.pendingBytes >= this.options.flushBytes ||
      Date.now() - this.lastFlush >= this.options.flushMillis
    ) {
      this.flush();
    }
  }

  flush(): void {
    this.assertOpen();
    this.lastFlush = Date.now();
    if (this.pendingBytes === 0) return;
    const data = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    try {
      let written = 0;
      while (written < data.length) written += writeSync(this.fd!, data, written, data.length - written);
    } catch (e) {
      throw ioError('write the event file', this.path, e);
    }
  }

  /** Flushes, syncs to disk and closes. Calling it again does nothing. */
  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    const fd = this.fd;
    this.fd = undefined;
    try {
      fsyncSync(fd);
    } catch (e) {
      throw ioError('sync the event file', this.path, e);
    } finally {
      closeSync(fd);
    }
  }

  private assertOpen(): void {
    if (this.fd === undefined) {
      throw new ModelautoError('CONFLICT', 'the event file writer is closed', {
        location: { file: this.path },
      });
    }
  }
}

function checkTag(tag: string): void {
  if (typeof tag !== 'string' || tag.length === 0) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `summary tag must be a non-empty string, got ${JSON.stringify(tag)}`,
      {
        location: { path: 'tag' },
      },
    );
  }
}

function checkStep(step: number, tag: string): void {
  if (!Number.isSafeInteger(step)) {
    throw new ModelautoError('INVALID_ARGUMENT', `step must be an integer, got ${step} for tag "${tag}"`, {
      location: { path: 'step' },
    });
  }
}

/**
 * Summary writer for one run directory, in the spirit of tfjs-node's `summaryFileWriter`.
 * Scalars are stored as float32 `simple_value`s (so 0.1 reads back as 0.10000000149011612, and
 * finite values beyond float32 range become Infinity); NaN and Infinity are kept, since a
 * diverging loss is worth seeing.
 */
export class SummaryWriter {
  private readonly file: EventFileWriter;

  constructor(
    readonly logdir: string,
    options: EventFileWriterOptions = {},
  ) {
    this.file = new EventFileWriter(logdir, options);
  }

  /** The event file being written. */
  get path(): string {
    return this.file.path;
  }

  scalar(tag: string, value: number, step: number): void {
    checkTag(tag);
    checkStep(step, tag);
    if (typeof value !== 'number') {
      throw new ModelautoError('INVALID_ARGUMENT', `scalar "${tag}" must be a number, got ${typeof value}`, {
        location: { path: tag },
      });
    }
    this.file.write({ wallTime: Date.now() / 1000, step, summary: { value: [{ tag, simpleValue: value }] } });
  }

  /** See histogram.ts for the two bucketings (TensorFlow's exponential default, or `bins` equal-width). */
  histogram(tag: string, values: ArrayLike<number>, step: number, options: HistogramOptions = {}): void {
    checkTag(tag);
    checkStep(step, tag);
    const histo = buildHistogram(values, options);
    this.file.write({ wallTime: Date.now() / 1000, step, summary: { value: [{ tag, histo }] } });
  }

  flush(): void {
    this.file.flush();
  }

  close(): void {
    this.file.close();
  }
}

/**
 * The train/val pair tfjs-node's `tensorBoard(logdir)` callback writes: `logdir/train` and
 * `logdir/val`. Like tfjs-node, each writer (and its directory) is created on first use, so a
 * run without validation has no empty `val` run in TensorBoard.
 */
export class TensorBoardWriters {
  private trainWriter: SummaryWriter | undefined;
  private valWriter: SummaryWriter | undefined;
  private isClosed = false;

  constructor(
    readonly logdir: string,
    private readonly options: EventFileWriterOptions = {},
  ) {
    parseOptions(options);
  }

  get train(): SummaryWriter {
    this.assertOpen();
    this.trainWriter ??= new SummaryWriter(join(this.logdir, 'train'), this.options);
    return this.trainWriter;
  }

  get val(): SummaryWriter {
    this.assertOpen();
    this.valWriter ??= new SummaryWriter(join(this.logdir, 'val'), this.options);
    return this.valWriter;
  }

  flush(): void {
    this.trainWriter?.flush();
    this.valWriter?.flush();
  }

  close(): void {
    this.isClosed = true;
    try {
      this.trainWriter?.close();
    } finally {
      this.valWriter?.close();
    }
  }

  private assertOpen(): void {
    if (this.isClosed) {
      throw new ModelautoError('CONFLICT', 'the TensorBoard writers are closed', {
        location: { file: this.logdir },
      });
    }
  }
}

export function tensorBoardWriters(logdir: string, options: EventFileWriterOptions = {}): TensorBoardWriters {
  return new TensorBoardWriters(logdir, options);
}

const VAL_PREFIX = 'val_';
/** Bookkeeping entries tfjs-node's callback leaves out of TensorBoard. */
const NOT_METRICS = new Set(['batch', 'size', 'num_steps']);

/**
 * Writes one set of callback logs the way tfjs-node's tensorBoard callback does: `val_<m>` goes to
 * the val writer as `<prefix>_<m>`, everything else to the train writer as `<prefix>_<m>`; the
 * bookkeeping keys batch, size and num_steps are skipped. tfjs-node's step is the epoch number
 * counted from 1 for epoch logs and the running count of batches seen (from 1) for batch logs.
 */
export function writeLogs(
  writers: Pick<TensorBoardWriters, 'train' | 'val'>,
  prefix: 'epoch' | 'batch',
  logs: Record<string, number>,
  step: number,
): void {
  if (prefix !== 'epoch' && prefix !== 'batch') {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `prefix must be "epoch" or "batch", got ${JSON.stringify(prefix)}`,
      {
        location: { path: 'prefix' },
      },
    );
  }
  for (const [key, value] of Object.entries(logs)) {
    if (NOT_METRICS.has(key)) continue;
    if (key.startsWith(VAL_PREFIX))
      writers.val.scalar(`${prefix}_${key.slice(VAL_PREFIX.length)}`, value, step);
    else writers.train.scalar(`${prefix}_${key}`, value, step);
  }
}
