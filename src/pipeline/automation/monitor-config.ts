/**
 * The monitor settings a deploy step gives its server: inline in the pipeline or a YAML/JSON file.
 * The pipeline files that alert rules run (`run: { pipeline: retrain.yaml }`) are relative to the file
 * that names them (the pipeline's folder, or the monitor file's), made absolute here, and loaded and
 * checked up front, so that a typo in the retraining pipeline fails the deploy before anything serves.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { ModelautoError } from '../../core/errors.js';
import { readYamlFile } from '../../core/yaml-file.js';
import type { MonitorConfig, MonitorConfigInput } from '../../monitor/live/config.js';
import { loadMonitorConfig, parseMonitorConfig } from '../../monitor/live/config-file.js';

export interface ResolvedMonitor {
  /** The settings to start the server with, `run.pipeline` paths absolute. */
  input: MonitorConfigInput;
  config: MonitorConfig;
  /** Absolute paths of the pipelines the rules run, by rule name. */
  pipelines: Record<string, string>;
}

function withAbsoluteRuns(value: unknown, dir: string): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const v = value as Record<string, unknown>;
  const alerts = v['alerts'] as Record<string, unknown> | undefined;
  const rules = alerts?.['rules'];
  if (!Array.isArray(rules)) return value;
  return {
    ...v,
    alerts: {
      ...alerts,
      rules: rules.map((r: unknown) => {
        const rule = r as Record<string, unknown>;
        const run = rule['run'] as Record<string, unknown> | undefined;
        const p = run?.['pipeline'];
        if (typeof p !== 'string' || isAbsolute(p)) return rule;
        return { ...rule, run: { ...run, pipeline: resolve(dir, p) } };
      }),
    },
  };
}

/** Reads, checks and resolves `monitor` (a file path relative to baseDir, or the settings inline). */
export function resolveMonitor(
  monitor: string | Record<string, unknown> | undefined,
  baseDir: string,
): ResolvedMonitor {
  let input: unknown;
  let config: MonitorConfig;
  if (typeof monitor === 'string') {
    const file = resolve(baseDir, monitor);
    config = loadMonitorConfig(file);
    input = withAbsoluteRuns(readYamlFile(file, { what: 'the monitor config' }).value ?? {}, dirname(file));
  } else {
    try {
      config = parseMonitorConfig(monitor ?? {});
    } catch (e) {
      if (e instanceof ModelautoError) throw new ModelautoError(e.code, `monitor: ${e.message}`);
      throw e;
    }
    input = withAbsoluteRuns(monitor ?? {}, baseDir);
  }
  const pipelines: Record<string, string> = {};
  for (const r of parseMonitorConfig(input).alerts.rules) if (r.run) pipelines[r.name] = r.run.pipeline;
  return { input: input as MonitorConfigInput, config, pipelines };
}
