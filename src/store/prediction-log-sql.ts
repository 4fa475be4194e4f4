/**
 * The prediction log over SQL, shared by the SQLite and PostgreSQL backends (they differ in the
 * driver and a few column types). Its tables have their own migration track
 * (`prediction_log_schema_migrations`) next to the store's, so they evolve without renumbering the
 * store's migrations; each migration runs in one transaction that re-reads the applied versions under
 * a lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock keyed by schema).
 */
import { ModelautoError } from '../core/errors.js';
import {
  FeedbackLabelSchema,
  PredictionRecordSchema,
  type FeedbackLabel,
  type LabelledPrediction,
  type LabelledQuery,
  type PredictionLog,
  type PredictionRecord,
  type PruneLimits,
} from './prediction-log.js';
import { ModelNameSchema } from './registry.js';
import { all, get, run, type SqlArg, type SqlDriver, type SqlScript } from './sql-script.js';
import { parseInput } from './validate.js';

export type PredictionLogDialect = 'sqlite' | 'postgres';

export const PREDICTION_LOG_MIGRATIONS_TABLE = 'prediction_log_schema_migrations';

const TYPES: Record<PredictionLogDialect, Record<'serial' | 'int' | 'real' | 'text', string>> = {
  sqlite: { serial: 'INTEGER PRIMARY KEY AUTOINCREMENT', int: 'INTEGER', real: 'REAL', text: 'TEXT' },
  // "C" collation: keys compare by code point, as in SQLite.
  postgres: {
    serial: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    int: 'BIGINT',
    real: 'DOUBLE PRECISION',
    text: 'TEXT COLLATE "C"',
  },
};

interface LogMigration {
  version: number;
  name: string;
  /** One statement each (SQLite prepares statements one at a time). */
  statements: string[];
}

const MIGRATIONS: readonly LogMigration[] = [
  {
    version: 1,
    name: 'prediction log and feedback',
    statements: [
      `CREATE TABLE prediction_log (
        seq {{serial}},
        model {{text}} NOT NULL,
        request_id {{text}} NOT NULL,
        version INTEGER NOT NULL,
        received_at {{int}} NOT NULL,
        protocol TEXT NOT NULL,
        n_rows INTEGER NOT NULL CHECK (n_rows > 0),
        latency_ms {{real}} NOT NULL,
        inputs_json TEXT NOT NULL,
        outputs_json TEXT NOT NULL,
        predicted_json TEXT,
        classes_json TEXT,
        UNIQUE (model, request_id)
      )`,
      `CREATE INDEX prediction_log_by_time ON prediction_log(received_at)`,
      `CREATE INDEX prediction_log_by_model ON prediction_log(model, seq)`,
      // Labels go with their prediction when retention drops it.
      `CREATE TABLE prediction_feedback (
        seq {{serial}},
        model {{text}} NOT NULL,
        request_id {{text}} NOT NULL,
        row_index INTEGER NOT NULL CHECK (row_index >= 0),
        label TEXT NOT NULL,
        version INTEGER NOT NULL,
        predicted TEXT NOT NULL,
        predicted_at {{int}} NOT NULL,
        labelled_at {{int}} NOT NULL,
        UNIQUE (model, request_id, row_index),
        FOREIGN KEY (model, request_id) REFERENCES prediction_log(model, request_id) ON DELETE CASCADE
      )`,
      `CREATE INDEX prediction_feedback_by_model ON prediction_feedback(model, labelled_at, seq)`,
      `CREATE INDEX prediction_feedback_by_version ON prediction_feedback(model, version, labelled_at, seq)`,
    ],
  },
];

export const PREDICTION_LOG_SCHEMA_VERSION = MIGRATIONS.length;

function dialectSql(sql: string, dialect: PredictionLogDialect): string {
  const types = TYPES[dialect];
  return sql.replace(/\{\{(serial|int|real|text)\}\}/g, (_, t: keyof typeof types) => types[t]);
}

/** Creates or upgrades the prediction log tables; returns the versions this call applied. */
export async function migratePredictionLog(
  driver: SqlDriver,
  dialect: PredictionLogDialect,
): Promise<number[]> {
  const applied: number[] = [];
  const location = driver.location;
  for (const migration of MIGRATIONS) {
    const ran = await driver.write('migrate the prediction log', function* (): SqlScript<boolean> {
      if (dialect === 'postgres') {
        yield* all(
          `SELECT pg_advisory_xact_lock(hashtext('modelauto.prediction_log'), hashtext(current_schema()))`,
        );
      }
      yield* run(`CREATE TABLE IF NOT EXISTS ${PREDICTION_LOG_MIGRATIONS_TABLE} (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${TYPES[dialect].int} NOT NULL)`);
      const row = yield* get<{ v: number | null }>(
        `SELECT MAX(version) AS v FROM ${PREDICTION_LOG_MIGRATIONS_TABLE}`,
      );
      const current = row?.v ?? 0;
      if (current > PREDICTION_LOG_SCHEMA_VERSION) {
        throw new ModelautoError(
          'STORE',
          `the prediction log's schema version is ${current}, newer than the latest this modelauto knows ` +
            `(${PREDICTION_LOG_SCHEMA_VERSION}): upgrade modelauto to open it`,
          { location: { file: location } },
        );
      }
      if (current >= migration.version) return false;
      for (const statement of migration.statements) yield* run(dialectSql(statement, dialect));
      yield* run(
        `INSERT INTO ${PREDICTION_LOG_MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`,
        migration.version,
        migration.name,
        Date.now(),
      );
      return true;
    });
    if (ran) applied.push(migration.version);
  }
  return applied;
}

interface RecordRow {
  model: string;
  request_id: string;
  version: number;
  received_at: number;
  protocol: string;
  n_rows: number;
  latency_ms: number;
  inputs_json: string;
  outputs_json: string;
  predicted_json: string | null;
  classes_json: string | null;
}

interface FeedbackRow {
  model: string;
  version: number;
  request_id: string;
  row_index: number;
  predicted: string;
  label: string;
  predicted_at: number;
  labelled_at: number;
}

const RECORD_COLUMNS =
  'model, request_id, version, received_at, protocol, n_rows, latency_ms, inputs_json, outputs_json, predicted_json, classes_json';

function recordFromRow(r: RecordRow): PredictionRecord {
  return {
    requestId: r.request_id,
    model: r.model,
    version: Number(r.version),
    time: Number(r.received_at),
    protocol: r.protocol as PredictionRecord['protocol'],
    rows: Number(r.n_rows),
    latencyMs: Number(r.latency_ms),
    inputs: JSON.parse(r.inputs_json) as unknown,
    outputs: JSON.parse(r.outputs_json) as unknown,
    predicted: r.predicted_json === null ? null : (JSON.parse(r.predicted_json) as string[]),
    classes: r.classes_json === null ? null : (JSON.parse(r.classes_json) as string[]),
  };
}

function labelledFromRow(r: FeedbackRow): LabelledPrediction {
  return {
    model: r.model,
    version: Number(r.version),
    requestId: r.request_id,
    row: Number(r.row_index),
    predicted: r.predicted,
    label: r.label,
    predictedAt: Number(r.predicted_at),
    labelledAt: Number(r.labelled_at),
  };
}

/** Rows per multi-row statement (12 values each: well under SQLite's and PostgreSQL's parameter limits). */
const CHUNK = 50;

export class SqlPredictionLog implements PredictionLog {
  readonly location: string;

  protected constructor(private readonly db: SqlDriver) {
    this.location = db.location;
  }

  async append(records: readonly PredictionRecord[]): Promise<void> {
    if (records.length === 0) return;
    // Last wins within the batch too, so the multi-row insert never meets its own duplicate.
    const byKey = new Map<string, PredictionRecord>();
    records.forEach((r, i) => {
      const p = parseInput(PredictionRecordSchema, r, `append.records.${i}`);
      const key = `${p.model}\u0000${p.requestId}`;
      byKey.delete(key);
      byKey.set(key, p);
    });
    const unique = [...byKey.values()];
    await this.db.write('append predictions', function* (): SqlScript<void> {
      for (let start = 0; start < unique.length; start += CHUNK) {
        const chunk = unique.slice(start, start + CHUNK);
        // A request id logged again replaces the earlier record; its labels go with it (cascade).
        // One `model = ? AND request_id IN (...)` per model: both databases use the unique index
        // for it (an OR of pairs would scan the table).
        const byModel = new Map<string, string[]>();
        for (const r of chunk) byModel.set(r.model, [...(byModel.get(r.model) ?? []), r.requestId]);
        for (const [model, ids] of byModel) {
          yield* run(
            `DELETE FROM prediction_log WHERE model = ? AND request_id IN (${ids.map(() => '?').join(', ')})`,
            model,
            ...ids,
          );
        }
        const args: SqlArg[] = [];
        for (const r of chunk) {
          args.push(
            r.model,
            r.requestId,
            r.version,
            r.time,
            r.protocol,
            r.rows,
            r.latencyMs,
            JSON.stringify(r.inputs ?? null),
            JSON.stringify(r.outputs ?? null),
            r.predicted === null ? null : JSON.stringify(r.predicted),
            r.classes === null ? null : JSON.stringify(r.classes),
          );
        }
        yield* run(
          `INSERT INTO prediction_log (${RECORD_COLUMNS}) VALUES ${chunk
            .map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
            .join(', ')}`,
          ...args,
        );
      }
    });
  }

  async get(model: string, requestId: string): Promise<PredictionRecord | null> {
    const m = parseInput(ModelNameSchema, model, 'get.model');
    return this.db.read('get prediction', function* (): SqlScript<PredictionRecord | null> {
      const row = yield* get<RecordRow>(
        `SELECT ${RECORD_COLUMNS} FROM prediction_log WHERE model = ? AND request_id = ?`,
        m,
        requestId,
      );
      return row ? recordFromRow(row) : null;
    });
  }

  async list(model: string, options: { limit: number; version?: number }): Promise<PredictionRecord[]> {
    const m = parseInput(ModelNameSchema, model, 'list.model');
    const limit = positiveLimit(options.limit, 'list.limit');
    return this.db.read('list predictions', function* (): SqlScript<PredictionRecord[]> {
      const rows =
        options.version === undefined
          ? yield* all<RecordRow>(
              `SELECT ${RECORD_COLUMNS} FROM prediction_log WHERE model = ? ORDER BY seq DESC LIMIT ?`,
              m,
              limit,
            )
          : yield* all<RecordRow>(
              `SELECT ${RECORD_COLUMNS} FROM prediction_log WHERE model = ? AND version = ? ORDER BY seq DESC LIMIT ?`,
              m,
              options.version,
              limit,
            );
      return rows.map(recordFromRow);
    });
  }

  async count(model?: string): Promise<number> {
    return this.db.read('count predictions', function* (): SqlScript<number> {
      const row =
        model === undefined
          ? yield* get<{ n: number }>('SELECT COUNT(*) AS n FROM prediction_log')
          : yield* get<{ n: number }>('SELECT COUNT(*) AS n FROM prediction_log WHERE model = ?', model);
      return Number(row?.n ?? 0);
    });
  }

  async label(model: string, labels: readonly FeedbackLabel[], at: number): Promise<LabelledPrediction[]> {
    const m = parseInput(ModelNameSchema, model, 'label.model');
    const parsed = labels.map((l, i) => parseInput(FeedbackLabelSchema, l, `labels.${i}`));
    const lock = this.db.forUpdate;
    return this.db.write('label predictions', function* (): SqlScript<LabelledPrediction[]> {
      const out: LabelledPrediction[] = [];
      for (const [i, l] of parsed.entries()) {
        // Locking the prediction's row serialises concurrent labels of one request (PostgreSQL).
        const rec = yield* get<RecordRow>(
          `SELECT ${RECORD_COLUMNS} FROM prediction_log WHERE model = ? AND request_id = ?${lock}`,
          m,
          l.requestId,
        );
        if (!rec) {
          throw new ModelautoError(
            'NOT_FOUND',
            `labels[${i}]: no logged prediction of ${m} has request id ${JSON.stringify(l.requestId)} ` +
              `(never answered here, not sampled into the prediction log, or dropped by its retention limits)`,
          );
        }
        const target = rowOf(l, i, Number(rec.n_rows));
        if (rec.predicted_json === null) {
          throw new ModelautoError(
            'INVALID_ARGUMENT',
            `labels[${i}]: request ${JSON.stringify(l.requestId)} was answered by ${m}:${rec.version}, which is not a classifier; feedback takes class labels`,
          );
        }
        const classes = rec.classes_json === null ? null : (JSON.parse(rec.classes_json) as string[]);
        if (classes && !classes.includes(l.label)) {
          throw new ModelautoError(
            'INVALID_ARGUMENT',
            `labels[${i}].label: ${JSON.stringify(l.label)} is not one of the classes of ${m}:${rec.version}: ${classes.join(', ')}`,
          );
        }
        const predicted = (JSON.parse(rec.predicted_json) as string[])[target] ?? '';
        yield* run(
          'DELETE FROM prediction_feedback WHERE model = ? AND request_id = ? AND row_index = ?',
          m,
          l.requestId,
          target,
        );
        yield* run(
          `INSERT INTO prediction_feedback (model, request_id, row_index, label, version, predicted, predicted_at, labelled_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          m,
          l.requestId,
          target,
          l.label,
          Number(rec.version),
          predicted,
          Number(rec.received_at),
          at,
        );
        out.push({
          model: m,
          version: Number(rec.version),
          requestId: l.requestId,
          row: target,
          predicted,
          label: l.label,
          predictedAt: Number(rec.received_at),
          labelledAt: at,
        });
      }
      return out;
    });
  }

  async labelled(model: string, query: LabelledQuery): Promise<LabelledPrediction[]> {
    const m = parseInput(ModelNameSchema, model, 'labelled.model');
    const limit = positiveLimit(query.limit, 'labelled.limit');
    const where = ['model = ?'];
    const args: SqlArg[] = [m];
    if (query.version !== undefined) {
      where.push('version = ?');
      args.push(query.version);
    }
    if (query.since !== undefined) {
      where.push('labelled_at >= ?');
      args.push(query.since);
    }
    args.push(limit);
    return this.db.read('read labelled predictions', function* (): SqlScript<LabelledPrediction[]> {
      const rows = yield* all<FeedbackRow>(
        `SELECT model, version, request_id, row_index, predicted, label, predicted_at, labelled_at
         FROM prediction_feedback WHERE ${where.join(' AND ')}
         ORDER BY labelled_at DESC, seq DESC LIMIT ?`,
        ...args,
      );
      return rows.reverse().map(labelledFromRow);
    });
  }

  async prune(limits: PruneLimits): Promise<number> {
    const keep = positiveLimit(limits.maxRows, 'prune.maxRows');
    const cutoff = limits.now - limits.maxAgeMs;
    return this.db.write('prune the prediction log', function* (): SqlScript<number> {
      const old = yield* run('DELETE FROM prediction_log WHERE received_at < ?', cutoff);
      const over = yield* run(
        `DELETE FROM prediction_log WHERE seq <= (SELECT seq FROM prediction_log ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
        keep,
      );
      return old + over;
    });
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

function positiveLimit(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ModelautoError('INVALID_ARGUMENT', `expected a positive integer, got ${n}`, {
      location: { path: what },
    });
  }
  return n;
}

function rowOf(l: FeedbackLabel, i: number, rows: number): number {
  if (l.row === undefined) {
    if (rows === 1) return 0;
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `labels[${i}].row: request ${JSON.stringify(l.requestId)} has ${rows} rows: say which one the label is for with "row" (0-${rows - 1})`,
    );
  }
  if (l.row >= rows) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `labels[${i}].row: request ${JSON.stringify(l.requestId)} has ${rows} row${rows === 1 ? '' : 's'}; row ${l.row} is out of range (0-${rows - 1})`,
    );
  }
  return l.row;
}
