/**
 * Model references as users type them: `mnist` (latest ready version), `mnist:3`, `mnist@champion`.
 */
import { ModelautoError } from '../core/errors.js';
import { ALIAS_PATTERN, MODEL_NAME_PATTERN, type ModelReference } from './registry.js';

const FORMS = 'expected <model>, <model>:<version> or <model>@<alias> (e.g. mnist, mnist:3, mnist@champion)';

export function parseModelReference(ref: string, path = 'ref'): ModelReference {
  const text = typeof ref === 'string' ? ref.trim() : '';
  const match = /^([^:@]+)(?::([^:@]*)|@([^:@]*))?$/.exec(text);
  const name = match?.[1];
  if (!match || name === undefined) throw invalid(ref, FORMS, path);
  if (!MODEL_NAME_PATTERN.test(name) || name.includes('..')) {
    throw invalid(
      ref,
      `the model name must be 1-64 lowercase letters, digits, "_", "." or "-", starting with a letter or digit (${FORMS})`,
      path,
    );
  }
  const [, , version, alias] = match;
  if (version !== undefined) {
    if (!/^[1-9]\d{0,8}$/.test(version))
      throw invalid(ref, `the version after ":" must be a number >= 1`, path);
    return { name, kind: 'version', version: Number(version) };
  }
  if (alias !== undefined) {
    if (!ALIAS_PATTERN.test(alias)) {
      throw invalid(
        ref,
        `the alias after "@" must be 1-64 lowercase letters, digits, "_" or "-", starting with a letter`,
        path,
      );
    }
    return { name, kind: 'alias', alias };
  }
  return { name, kind: 'latest' };
}

export function formatModelReference(ref: ModelReference): string {
  if (ref.kind === 'version') return `${ref.name}:${ref.version}`;
  if (ref.kind === 'alias') return `${ref.name}@${ref.alias}`;
  return ref.name;
}

function invalid(ref: unknown, why: string, path: string): ModelautoError {
  return new ModelautoError('INVALID_ARGUMENT', `invalid model reference ${JSON.stringify(ref)}: ${why}`, {
    location: { path },
  });
}
