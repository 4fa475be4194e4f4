/**
 * Reading alert rules: from a value (the monitor config already parsed) or from the `alerts:` key of
 * a YAML file. Errors name the file, the line of the offending field and its path, e.g.
 * `monitor.yaml:12: alerts.rules[1].threshold: required: the value to compare with`.
 */
import { ModelautoError } from '../../core/errors.js';
import { parseAt, readYamlFile } from '../../core/yaml-file.js';
import { formatZodError } from '../../core/zod-error.js';
import { AlertingSchema, type AlertingConfig } from './rule.js';

export interface AlertingSource {
  /** File the value came from, for messages. */
  file?: string;
  /** Path of the value inside its document; default `alerts`. */
  path?: string;
}

/** Validates an `alerts:` value; throws INVALID_SPEC naming each bad field by path. */
export function parseAlerting(input: unknown, source: AlertingSource = {}): AlertingConfig {
  const r = AlertingSchema.safeParse(input ?? {});
  if (!r.success) {
    throw new ModelautoError('INVALID_SPEC', formatZodError(r.error, source.path ?? 'alerts'), {
      ...(source.file ? { location: { file: source.file } } : {}),
    });
  }
  return r.data;
}

/**
 * Reads the alert rules under `key` (default `alerts`) of a YAML (or JSON) file; a file without the
 * key has no rules. The error points at the line of the first bad field.
 */
export function loadAlertingFile(file: string, key = 'alerts'): AlertingConfig {
  const yaml = readYamlFile(file, { what: 'the alert rules in' });
  const root = yaml.value;
  if (root !== null && (typeof root !== 'object' || Array.isArray(root))) {
    throw new ModelautoError('INVALID_SPEC', `expected a mapping with an "${key}" key`, {
      location: { file },
    });
  }
  const value = (root as Record<string, unknown> | null)?.[key];
  return parseAt(AlertingSchema, value ?? {}, yaml, [key]);
}
