import * as tf from '@tensorflow/tfjs';
import { availableParallelism } from 'node:os';
import { ModelautoError } from '../../core/errors.js';
import { loadAddon, type NativeAddon } from './addon.js';
import { attachBufferPool, bufferPoolStats, detachBufferPool, type BufferPoolStats } from './buffer-pool.js';
import { asCpuBackend } from './cpu-data.js';
import { installFusedOps, uninstallFusedOps } from './fused-ops.js';
import { installGradientOverrides, uninstallGradientOverrides } from './gradients.js';
import type { NativeKernel } from './kernel.js';
import { NATIVE_KERNELS } from './kernels/index.js';
import { installLossOverrides, uninstallLossOverrides } from './losses.js';

export interface NativeKernelStatus {
  name: string;
  /** True when the native wrapper is registered for this kernel right now. */
  native: boolean;
  note?: string;
  /** Calls served natively / handed to tfjs's JS kernel since the process started. */
  calls: number;
  fallbacks: number;
  lastFallback?: string;
}

export interface NativeStatus {
  /** The addon loaded and its kernels are registered. */
  available: boolean;
  reason?: string;
  /** GEMM micro-kernel: 'avx512', 'avx2-fma', 'portable', or 'none' without the addon. */
  isa: string;
  threads: number;
  /**
   * glibc keeps freed memory for reuse instead of returning it to the kernel: re-faulting the
   * pages of multi-megabyte tensors every step costs more than the kernels. Off with
   * MODELAUTO_MALLOC_TUNING=0 (then freed memory goes back to the system sooner).
   */
  mallocTuned: boolean;
  /**
   * Large kernel outputs are recycled once tfjs disposes them and nothing else can read them
   * (MODELAUTO_BUFFER_POOL_MB caps the free arrays kept; 0 turns recycling off).
   */
  bufferPool: BufferPoolStats;
  addonPath?: string;
  kernels: NativeKernelStatus[];
}

interface Stats {
  calls: number;
  fallbacks: number;
  lastFallback?: string;
}

interface Installed {
  kernel: NativeKernel;
  original: tf.KernelConfig;
  stats: Stats;
  /** A kernel of modelauto's own (no tfjs original): uninstall removes it. */
  own: boolean;
}

const installed = new Map<string, Installed>();
/** Per-kernel counters, cumulative for the process (they survive uninstall/install). */
const statsByKernel = new Map<string, Stats>();
let lastReason: string | undefined;
let requestedThreads: number | undefined;
let mallocTuned = false;

function parseThreads(value: unknown, source: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 256) {
    throw new ModelautoError(
      'USAGE',
      `${source}: expected an integer thread count from 1 to 256, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function defaultThreads(): number {
  const env = process.env['MODELAUTO_THREADS'];
  if (env !== undefined && env !== '') return parseThreads(env, 'MODELAUTO_THREADS');
  return Math.max(1, availableParallelism());
}

function wrap(entry: Installed, addon: NativeAddon): tf.KernelFunc {
  const { kernel, original, stats } = entry;
  return (args) => {
    const backend = asCpuBackend(args.backend);
    if (backend) {
      const result = kernel.run({ inputs: args.inputs, attrs: args.attrs ?? {}, backend, addon });
      if (typeof result !== 'string') {
        stats.calls++;
        return result;
      }
      stats.lastFallback = result;
    } else {
      stats.lastFallback = 'backend is not tfjs MathBackendCPU';
    }
    stats.fallbacks++;
    return original.kernelFunc(args);
  };
}

/**
 * Loads the addon and registers native wrappers over tfjs's cpu kernels. Idempotent; never throws
 * because the addon is missing (the status says why) — only for an invalid thread count.
 */
export function installNativeKernels(opts: { threads?: number } = {}): NativeStatus {
  if (opts.threads !== undefined) requestedThreads = parseThreads(opts.threads, 'threads');
  const threads = requestedThreads ?? defaultThreads();
  const load = loadAddon();
  if (!load.ok) {
    lastReason = load.reason;
    return nativeStatus();
  }
  load.addon.setThreads(threads);
  if (!mallocTuned && process.env['MODELAUTO_MALLOC_TUNING'] !== '0') mallocTuned = load.addon.tuneMalloc();
  if (installed.size > 0) return nativeStatus();
  for (const kernel of NATIVE_KERNELS) {
    const tfjsKernel = tf.getKernel(kernel.name, 'cpu');
    const original =
      tfjsKernel ??
      (kernel.reference
        ? { kernelName: kernel.name, backendName: 'cpu', kernelFunc: kernel.reference }
        : undefined);
    if (!original) continue;
    let stats = statsByKernel.get(kernel.name);
    if (!stats) {
      stats = { calls: 0, fallbacks: 0 };
      statsByKernel.set(kernel.name, stats);
    }
    const entry: Installed = { kernel, original, stats, own: !tfjsKernel };
    if (tfjsKernel) tf.unregisterKernel(kernel.name, 'cpu');
    tf.registerKernel({ ...original, kernelFunc: wrap(entry, load.addon) });
    installed.set(kernel.name, entry);
  }
  installGradientOverrides();
  installLossOverrides();
  installFusedOps(() => installed.has('_FusedMatMul'));
  attachBufferPool(tf.findBackend('cpu'));
  lastReason = undefined;
  return nativeStatus();
}

/** Puts tfjs's own cpu kernels back (tests compare both in one process). */
export function uninstallNativeKernels(): void {
  uninstallGradientOverrides();
  uninstallLossOverrides();
  uninstallFusedOps();
  detachBufferPool();
  for (const [name, entry] of installed) {
    tf.unregisterKernel(name, 'cpu');
    if (!entry.own) tf.registerKernel(entry.original);
  }
  installed.clear();
}

export function setNativeThreads(n: number): number {
  requestedThreads = parseThreads(n, 'threads');
  const load = loadAddon();
  return load.ok ? load.addon.setThreads(requestedThreads) : requestedThreads;
}

export function nativeStatus(): NativeStatus {
  const load = loadAddon();
  const info = load.ok ? load.addon.info() : undefined;
  const available = load.ok && installed.size > 0;
  let reason: string | undefined;
  if (!load.ok) reason = load.reason;
  else if (!available) reason = lastReason ?? 'installNativeKernels() has not been called';
  return {
    available,
    ...(reason !== undefined ? { reason } : {}),
    isa: info?.isa ?? 'none',
    threads: info?.threads ?? 1,
    mallocTuned,
    bufferPool: bufferPoolStats(),
    ...(load.ok ? { addonPath: load.path } : {}),
    kernels: NATIVE_KERNELS.map((k) => {
      const entry = installed.get(k.name);
      const stats = statsByKernel.get(k.name);
      let note = k.note;
      if (!entry) {
        note = !load.ok
          ? load.reason
          : tf.getKernel(k.name, 'cpu') === undefined && available
            ? 'tfjs cpu backend has no such kernel'
            : (reason ?? note);
      }
      return {
        name: k.name,
        native: entry !== undefined,
        ...(note !== undefined ? { note } : {}),
        calls: stats?.calls ?? 0,
        fallbacks: stats?.fallbacks ?? 0,
        ...(stats?.lastFallback !== undefined ? { lastFallback: stats.lastFallback } : {}),
      };
    }),
  };
}

/** True while the native kernels are registered (cheap enough to ask per training step). */
export function nativeKernelsInstalled(): boolean {
  return installed.size > 0;
}

/** The loaded addon (benchmarks measure GEMM through it), or undefined. */
export function nativeAddon(): NativeAddon | undefined {
  const load = loadAddon();
  return load.ok ? load.addon : undefined;
}
