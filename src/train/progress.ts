import { BaseCallback, type Logs } from './callbacks.js';

export interface ProgressOptions {
  stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Force the bar (true) or line logs (false); default: bar when the stream is a terminal. */
  tty?: boolean;
  /** Minimum milliseconds between bar redraws. */
  refreshMs?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m < 60
    ? `${m}m${String(s).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatLogs(logs: Logs, keys?: string[]): string {
  return (keys ?? Object.keys(logs))
    .filter((k) => logs[k] !== undefined)
    .map((k) => `${k} ${formatNumber(logs[k] as number)}`)
    .join('  ');
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}

/**
 * Keras-like progress: on a terminal a bar redrawn in place (epoch, batch, loss, metrics, rate, ETA);
 * elsewhere (CI, pipes, log files) one line per epoch, so logs stay readable.
 */
export class ProgressLogger extends BaseCallback {
  private readonly stream: NodeJS.WritableStream;
  private readonly tty: boolean;
  private readonly refreshMs: number;
  private epochStart = 0;
  private lastDraw = 0;
  private seen = 0;
  private currentEpoch = 0;
  /** Size-weighted sums of the batch metrics: the bar shows epoch-to-date means, like Keras. */
  private sums = new Map<string, number>();

  constructor(options: ProgressOptions = {}) {
    super();
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? Boolean((this.stream as NodeJS.WriteStream).isTTY);
    this.refreshMs = options.refreshMs ?? 100;
  }

  onEpochBegin(epoch: number): void {
    this.currentEpoch = epoch;
    this.epochStart = performance.now();
    this.lastDraw = 0;
    this.seen = 0;
    this.sums.clear();
  }

  onBatchEnd(batch: number, logs: Logs): void {
    const size = logs['size'] ?? 0;
    this.seen += size;
    if (!this.tty) return;
    for (const k of this.ctx.params.metrics) {
      const v = logs[k];
      if (v !== undefined) this.sums.set(k, (this.sums.get(k) ?? 0) + v * size);
    }
    const now = performance.now();
    const steps = this.ctx.params.stepsPerEpoch;
    if (now - this.lastDraw < this.refreshMs && batch + 1 < steps) return;
    this.lastDraw = now;
    const elapsed = (now - this.epochStart) / 1000;
    const rate = this.seen / Math.max(elapsed, 1e-9);
    const eta = ((steps - batch - 1) * elapsed) / (batch + 1);
    const width = 24;
    const done = Math.round(((batch + 1) / steps) * width);
    const bar = '='.repeat(Math.max(0, done - 1)) + (done < width ? '>' : '=') + ' '.repeat(width - done);
    const epochs = this.ctx.params.epochs;
    const e = `${this.currentEpoch + 1}/${epochs}`;
    const means: Logs = {};
    for (const [k, v] of this.sums) means[k] = v / Math.max(this.seen, 1);
    const metrics = formatLogs(means, this.ctx.params.metrics);
    const line = `Epoch ${e} [${bar}] ${batch + 1}/${steps}  ${metrics}  ${Math.round(rate)} samples/s  ETA ${formatDuration(eta)}`;
    this.stream.write(`\r\x1b[K${line}`);
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const elapsed = (performance.now() - this.epochStart) / 1000;
    const rate = this.seen / Math.max(elapsed, 1e-9);
    const line = `Epoch ${epoch + 1}/${this.ctx.params.epochs}  ${formatLogs(logs)}  ${Math.round(rate)} samples/s  ${formatDuration(elapsed)}`;
    this.stream.write(this.tty ? `\r\x1b[K${line}\n` : `${line}\n`);
  }
}
