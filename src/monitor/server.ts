/**
 * `startMonitoredServer(options)`: the model server (src/serve) with the live monitor inside it —
 * what `modelauto serve` runs. On top of the protocols it serves
 *
 *   GET  /metrics                       Prometheus metrics (src/monitor/live/metrics.ts)
 *   POST /v1/models/{m}/feedback        ground-truth labels for logged predictions
 *   GET  /, /api/...                    the dashboard (read-only; src/monitor/dashboard)
 *
 * and keeps the prediction log, live quality, live drift and the alert rules going. The prediction
 * log and the alert events live in the same store as the registry. `close()` drains the requests,
 * then stops the monitor (writing what is queued), then closes what it opened.
 */
import { ModelautoError } from '../core/errors.js';
import { startServer, type RunningServer, type StartServerOptions } from '../serve/server.js';
import type { ServeObserver } from '../serve/observer.js';
import { openAlertEventStore } from '../store/alert-events-open.js';
import type { AlertEventStore } from '../store/alert-events.js';
import { defaultStoreLocation, openStores, type Stores } from '../store/open.js';
import { openPipelineStore } from '../store/pipeline-open.js';
import type { PipelineStore } from '../store/pipeline-types.js';
import { openPredictionLog } from '../store/prediction-log-open.js';
import type { PredictionLog } from '../store/prediction-log.js';
import { SqliteTrackingStore } from '../store/sqlite-store.js';
import type { AlertEngineOptions } from './alerts/engine.js';
import { registerDashboard, type QueueReadModel } from './dashboard/index.js';
import type { MonitorConfigInput } from './live/config.js';
import { loadMonitorConfig, parseMonitorConfig } from './live/config-file.js';
import { storeDriftEngine } from './live/drift-engine.js';
import { InlineLogWriter, WorkerLogWriter } from './live/log-writer.js';
import { LiveMonitor } from './live/monitor.js';
import { registerMonitorRoutes } from './live/routes.js';

export interface MonitoredServerOptions extends Omit<StartServerOptions, 'observer'> {
  /** The monitor config as a value (see src/monitor/live/config.ts); default: every default. */
  monitor?: MonitorConfigInput;
  /** Or a YAML/JSON file holding it (`modelauto serve --monitor monitor.yaml`). */
  monitorFile?: string;
  /**
   * The dashboard at `/` and `/api/...` (default on): its built page folder, refresh period, the
   * pipeline runs it shows (default: the store's; false for none) and a queue to watch.
   */
  dashboard?:
    | boolean
    | { staticDir?: string; refreshMs?: number; pipelines?: PipelineStore | false; queue?: QueueReadModel };
  /** Epoch milliseconds; default Date.now (tests inject a clock). */
  now?: () => number;
  /** An open prediction log to use (not closed by close()); default: the store's. */
  predictionLog?: PredictionLog;
  /** An open alert event store to use (not closed by close()); default: the store's. */
  alertEvents?: AlertEventStore;
  /** Starts the pipeline of a firing alert rule with `run:` (the pipeline layer passes it). */
  onFire?: AlertEngineOptions['onFire'];
}

export interface MonitoredServer extends RunningServer {
  monitor: LiveMonitor;
}

/** The URI the monitor's own tables are opened from: `store`, or the SQLite folder of given stores. */
function monitorStoreUri(store: string | undefined, stores: Stores | undefined): string {
  if (store !== undefined) return store;
  if (!stores) return defaultStoreLocation();
  if (stores.tracking instanceof SqliteTrackingStore) return `sqlite:${stores.tracking.root}`;
  throw new ModelautoError(
    'USAGE',
    'startMonitoredServer: with PostgreSQL `stores`, also pass `store` (the same URI) or `predictionLog` and `alertEvents`',
  );
}

/** Where the dashboard's pipeline runs are: like monitorStoreUri, but none for given PostgreSQL stores. */
function pipelineStoreUri(store: string | undefined, stores: Stores | undefined): string | undefined {
  if (store !== undefined || !stores || stores.tracking instanceof SqliteTrackingStore) {
    return monitorStoreUri(store, stores);
  }
  return undefined;
}

export async function startMonitoredServer(input: MonitoredServerOptions = {}): Promise<MonitoredServer> {
  const {
    monitor: monitorInput,
    monitorFile,
    dashboard,
    now,
    predictionLog: givenLog,
    alertEvents: givenAlerts,
    onFire,
    stores: givenStores,
    log: logOption,
    ...serve
  } = input;
  if (monitorInput !== undefined && monitorFile !== undefined) {
    throw new ModelautoError('USAGE', 'give the monitor config as `monitor` or `monitorFile`, not both');
  }
  const config =
    monitorFile !== undefined ? loadMonitorConfig(monitorFile) : parseMonitorConfig(monitorInput);
  const runs = config.alerts.rules.findIndex((r) => r.run !== null);
  if (runs >= 0 && !onFire) {
    // Said before anything is opened or listens.
    throw new ModelautoError(
      'INVALID_SPEC',
      `rule "${config.alerts.rules[runs]?.name}" runs a pipeline when it fires, but this server has no pipeline runner (onFire)`,
      { location: { path: `alerts.rules[${runs}].run`, ...(monitorFile ? { file: monitorFile } : {}) } },
    );
  }
  const log = logOption ?? (() => undefined);
  const opened: { close(): Promise<void> }[] = [];
  const closeOpened = async () => {
    for (const o of opened.reverse()) await o.close().catch(() => undefined);
  };
  try {
    const needsUri = !givenStores || !givenLog || !givenAlerts;
    const uri = needsUri ? monitorStoreUri(serve.store, givenStores) : '';
    const stores = givenStores ?? (await openStores(uri));
    if (!givenStores) opened.push(stores);
    const predictionLog = givenLog ?? (await openPredictionLog(uri));
    if (!givenLog) opened.push(predictionLog);
    const alertEvents = givenAlerts ?? (await openAlertEventStore(uri));
    if (!givenAlerts) opened.push(alertEvents);
    // A log the caller passes is written where it is; the store's own gets the writer thread.
    const writer =
      givenLog || config.predictionLog.writer === 'inline' || !config.predictionLog.enabled
        ? new InlineLogWriter(predictionLog)
        : await WorkerLogWriter.start(uri);
    opened.push(writer);
    const { pipelines: pipelinesOption, ...dashboardOptions } =
      typeof dashboard === 'object' ? dashboard : {};
    let pipelines: PipelineStore | undefined;
    if (dashboard !== false && pipelinesOption !== false) {
      pipelines = pipelinesOption;
      const pipelineUri = pipelines ? undefined : pipelineStoreUri(serve.store, givenStores);
      if (pipelineUri !== undefined) {
        pipelines = await openPipelineStore(pipelineUri);
        opened.push(pipelines);
      }
    }

    const monitor = new LiveMonitor({
      config,
      predictionLog,
      writer,
      alertEvents,
      drift: storeDriftEngine(stores, config.drift),
      log,
      ...(now ? { now } : {}),
      ...(onFire ? { onFire } : {}),
    });
    const observer: ServeObserver = {
      setup(app, manager) {
        monitor.attach(manager);
        registerMonitorRoutes(app, monitor);
        if (dashboard !== false) {
          registerDashboard(app, {
            stores,
            monitor,
            ...dashboardOptions,
            ...(pipelines ? { pipelines } : {}),
          });
        }
      },
      onInference: (e) => monitor.onInference(e),
      onBatch: (e) => monitor.onBatch(e),
      now: monitor.now,
    };
    const server = await startServer({ ...serve, stores, log, observer });
    try {
      await monitor.start(server.url);
    } catch (e) {
      await server.close();
      await monitor.close();
      throw e;
    }
    log(
      `monitoring: /metrics, feedback at /v1/models/<model>/feedback` +
        `${dashboard !== false ? `, dashboard at ${server.url}/` : ''}`,
    );
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= (async () => {
        await server.close();
        await monitor.close();
        await closeOpened();
      })();
      return closing;
    };
    return { ...server, monitor, close };
  } catch (e) {
    await closeOpened();
    throw e;
  }
}
