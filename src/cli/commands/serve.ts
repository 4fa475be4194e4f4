import { InvalidArgumentError, type Command } from 'commander';
import { INFERENCE_THREADS, PRECISIONS, RUNTIME_CHOICES } from '../../serve/loader.js';
import { startMonitoredServer } from '../../monitor/server.js';
import { startServer, type RunningServer, type StartServerOptions } from '../../serve/server.js';
import { globals, oneOf, output, positiveInt } from '../context.js';
import { untilSignal } from '../until-signal.js';

function nonNegativeInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
      throw new InvalidArgumentError(`${name}: expected an integer >= 0, got "${value}"`);
    }
    return n;
  };
}

function milliseconds(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
      throw new InvalidArgumentError(`${name}: expected a number of milliseconds >= 0, got "${value}"`);
    }
    return n;
  };
}

function modelList(value: string): string[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0)
    throw new InvalidArgumentError(`--models: expected model names separated by commas, got "${value}"`);
  return names;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'serve registered models over TF Serving REST (/v1) and the Open Inference Protocol v2 (/v2), following their aliases',
    )
    .option('--port <n>', 'TCP port (0: any free port)', nonNegativeInt('--port'), 8501)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option(
      '--models <names>',
      'comma-separated models to serve (default: every registered model)',
      modelList,
    )
    .option('--max-batch <n>', 'most rows per inference run', positiveInt('--max-batch'), 64)
    .option(
      '--max-delay-ms <ms>',
      'longest wait for a batch to fill (none when no other request is arriving)',
      milliseconds('--max-delay-ms'),
      2,
    )
    .option(
      '--queue <n>',
      'most rows waiting per version; beyond: 503 with Retry-After',
      positiveInt('--queue'),
      1024,
    )
    .option(
      '--max-request-rows <n>',
      'most rows in one request (default: --queue)',
      positiveInt('--max-request-rows'),
    )
    .option(
      '--request-timeout-ms <ms>',
      'per-request deadline (504 after it)',
      positiveInt('--request-timeout-ms'),
      10_000,
    )
    .option('--body-limit <bytes>', 'largest request body', positiveInt('--body-limit'), 16 * 1024 * 1024)
    .option(
      '--threads <n>',
      'onnxruntime intra-op threads per model version (0: onnxruntime decides)',
      nonNegativeInt('--threads'),
      1,
    )
    .option(
      '--inference-thread <where>',
      `where ONNX models run: ${INFERENCE_THREADS.join(', ')} (worker: a thread per version, so the server's thread keeps answering; pays with cores to spare)`,
      oneOf('--inference-thread', INFERENCE_THREADS),
      'main',
    )
    .option(
      '--runtime <name>',
      `inference runtime: ${RUNTIME_CHOICES.join(', ')} (auto: ONNX when exported, else tfjs)`,
      oneOf('--runtime', RUNTIME_CHOICES),
      'auto',
    )
    .option(
      '--precision <p>',
      `ONNX model to serve: ${PRECISIONS.join(', ')}`,
      oneOf('--precision', PRECISIONS),
      'float',
    )
    .option(
      '--poll-ms <ms>',
      'how often to read the registry for alias moves (0: never)',
      nonNegativeInt('--poll-ms'),
      1000,
    )
    .option('--shadow-log <file>', 'append shadow-mode records to this JSON Lines file')
    .option(
      '--monitor <file>',
      'monitor config (YAML): prediction log sampling and retention, quality and drift windows, alert rules',
    )
    .option(
      '--no-monitor',
      'serve without the live monitor (no /metrics, feedback, prediction log, dashboard)',
    )
    .option('--no-dashboard', 'keep the live monitor but do not serve the dashboard at /')
    .addHelpText(
      'after',
      '\nThe live monitor (on by default) adds GET /metrics (Prometheus), POST /v1/models/<m>/feedback\n' +
        '({"labels": [{"request_id", "label", "row"?}]}), the prediction log in the store, live quality and drift,\n' +
        'alert rules, and the dashboard at / (read-only).\n' +
        'The admin API (/admin/models/...: load, unload, alias moves, canary) is on when MODELAUTO_ADMIN_TOKEN is set;\n' +
        'send it as "Authorization: Bearer <token>". Ctrl-C or SIGTERM: finish the requests in flight, then stop.',
    )
    .action(async (opts, cmd: Command) => {
      const g = globals(cmd);
      const options: StartServerOptions = {
        ...(g.store ? { store: g.store } : {}),
        host: opts.host,
        port: opts.port,
        ...(opts.models ? { models: opts.models } : {}),
        maxBatch: opts.maxBatch,
        maxDelayMs: opts.maxDelayMs,
        queue: opts.queue,
        ...(opts.maxRequestRows ? { maxRequestRows: opts.maxRequestRows } : {}),
        requestTimeoutMs: opts.requestTimeoutMs,
        bodyLimit: opts.bodyLimit,
        threads: opts.threads,
        runtime: opts.runtime,
        inferenceThread: opts.inferenceThread,
        precision: opts.precision,
        pollIntervalMs: opts.pollMs,
        ...(opts.shadowLog ? { shadowLog: opts.shadowLog } : {}),
        log: (line) => process.stderr.write(`${line}\n`),
      };
      const stop = untilSignal();
      try {
        const server: RunningServer =
          opts.monitor === false
            ? await startServer(options)
            : await startMonitoredServer({
                ...options,
                ...(typeof opts.monitor === 'string' ? { monitorFile: opts.monitor } : {}),
                dashboard: opts.dashboard !== false,
              });
        output(
          cmd,
          { url: server.url, models: server.manager.modelNames },
          () => `listening on ${server.url}`,
        );
        process.stderr.write(`${await stop.signal}: `);
        await server.close();
      } finally {
        stop.dispose();
      }
    });
}
