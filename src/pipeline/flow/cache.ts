/**
 * Step cache keys. A step's outputs can be reused when all of these are the same as when they were
 * made: the step type, its resolved inputs (parameters and upstream references filled in), what its
 * inputs point at (experiment file contents, data fingerprints: StepDefinition.fingerprint), the
 * outputs of the steps it depends on, and the code (modelauto's version and the git commit of the
 * working folder, `-dirty` included).
 */
import { sha256 } from '../../core/hash.js';
import { canonicalJson } from '../../store/canonical-json.js';
import type { JsonValue } from '../../store/types.js';
import { VERSION } from '../../version.js';
import { gitCommit } from '../git.js';

export const CACHE_FORMAT = 1;

let cachedCodeVersion: string | undefined;

/** `modelauto@0.1.0+<git commit>`; the commit part is left out outside a git work tree. */
export function codeVersion(): string {
  cachedCodeVersion ??= `modelauto@${VERSION}${gitCommit() ? `+${gitCommit()}` : ''}`;
  return cachedCodeVersion;
}

export interface CacheKeyParts {
  uses: string;
  inputs: JsonValue;
  fingerprint: JsonValue;
  /** Step id → that step's outputs, for every step this one depends on. */
  upstream: Record<string, JsonValue>;
  code: string;
}

export function cacheKey(parts: CacheKeyParts): string {
  const upstream = Object.fromEntries(
    Object.entries(parts.upstream).map(([id, outputs]) => [id, sha256(canonicalJson(outputs))]),
  );
  return sha256(
    canonicalJson({
      format: CACHE_FORMAT,
      uses: parts.uses,
      inputs: parts.inputs,
      fingerprint: parts.fingerprint,
      upstream,
      code: parts.code,
    }),
  );
}
