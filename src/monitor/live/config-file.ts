/**
 * Reading the monitor config from a value or a YAML (or JSON) file. Errors name the file, the line of
 * the offending field and its path: `monitor.yaml:7: drift.windowRows: expected number > 0`.
 */
import { ModelautoError } from '../../core/errors.js';
import { parseAt, readYamlFile } from '../../core/yaml-file.js';
import { formatZodError } from '../../core/zod-error.js';
import { MonitorConfigSchema, type MonitorConfig } from './config.js';

/** Validates a config value; throws INVALID_SPEC naming each bad field by path. */
export function parseMonitorConfig(input: unknown, file?: string): MonitorConfig {
  const r = MonitorConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    throw new ModelautoError('INVALID_SPEC', formatZodError(r.error), file ? { location: { file } } : {});
  }
  return r.data;
}

/** Reads and validates a monitor config file (an empty file is the defaults). */
export function loadMonitorConfig(file: string): MonitorConfig {
  const yaml = readYamlFile(file, { what: 'the monitor config' });
  const value = yaml.value;
  if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    throw new ModelautoError(
      'INVALID_SPEC',
      'expected a mapping with predictionLog, traffic, quality, drift and alerts sections',
      { location: { file } },
    );
  }
  return parseAt(MonitorConfigSchema, value ?? {}, yaml);
}
