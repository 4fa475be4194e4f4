/**
 * Reading a pipeline: the file (YAML or JSON) or an object, parameter overrides, and every check that
 * can be made before anything runs — unknown step types, unknown `needs`, cycles, references to missing
 * steps, outputs or parameters, and each step's inputs against its type's schema (with experiment files
 * loaded and checked too). Errors point at the file and line: `pipe.yaml:12: steps.train.uses: ...`.
 */
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ModelautoError } from '../../core/errors.js';
import { readYamlFile } from '../../core/yaml-file.js';
import { formatZodError } from '../../core/zod-error.js';
import { formatIssues } from './zod.js';
import type { JsonValue } from '../../store/types.js';
import { topoSort } from './dag.js';
import { formatPath, getPath, leafPaths, parsePath, setPath, type PathSegment } from './paths.js';
import { findRefs, hasRef, resolveRefs } from './refs.js';
import { PipelineSpecSchema, type PipelineSpec, type PipelineSpecInput } from './spec.js';
import { getStepDefinition, stepTypes } from './steps/index.js';

export interface LoadedPipeline {
  /** Parameters applied (defaults and overrides); step references left as written. */
  spec: PipelineSpec;
  params: Record<string, JsonValue>;
  /** Absolute path of the file; null for an object. */
  file: string | null;
  baseDir: string;
  /** Steps in running order (dependencies first, then the order written). */
  order: string[];
  /** What each step waits for: its `needs` plus the steps its inputs reference. */
  deps: Map<string, string[]>;
}

export interface LoadPipelineOptions {
  /** Parameter overrides: `['a.b=1', 'name=x']` (values read as YAML) or `{ 'a.b': 1 }`. */
  set?: readonly string[] | Record<string, JsonValue>;
  /** For an object: the folder relative paths are resolved against (default: the current folder). */
  baseDir?: string;
}

interface Problem {
  path: PathSegment[];
  message: string;
}

/** Reads and checks a pipeline; throws INVALID_SPEC (or USAGE for a bad `--set`) listing every problem. */
export function loadPipeline(
  source: string | PipelineSpecInput,
  options: LoadPipelineOptions = {},
): LoadedPipeline {
  const file = typeof source === 'string' ? resolve(source) : null;
  const { value, lineOf } = file ? readDocument(file) : { value: source as unknown, lineOf: () => undefined };
  const fail = (problems: Problem[]): never => {
    throw problemsError(problems, file ?? undefined, lineOf);
  };
  const parsed = PipelineSpecSchema.safeParse(value);
  if (!parsed.success) {
    fail(
      parsed.error.issues.map((i) => ({
        path: i.path as PathSegment[],
        message: formatZodError(new z.ZodError([i])),
      })),
    );
  }
  const spec = (parsed as { data: PipelineSpec }).data;
  const baseDir = file ? dirname(file) : resolve(options.baseDir ?? process.cwd());
  const params = applyOverrides(spec.params, options.set ?? []);

  const problems: Problem[] = [];
  const ids = Object.keys(spec.steps);
  const deps = new Map<string, string[]>();
  for (const [id, step] of Object.entries(spec.steps)) {
    const at = (...rest: PathSegment[]): PathSegment[] => ['steps', id, ...rest];
    const def = getStepDefinition(step.uses);
    if (!def) {
      problems.push({
        path: at('uses'),
        message: `${formatPath(at('uses'))}: unknown step type "${step.uses}"; known: ${stepTypes().join(', ')}`,
      });
    }
    const needs = new Set<string>();
    step.needs.forEach((n, i) => {
      if (!Object.hasOwn(spec.steps, n)) {
        problems.push({
          path: at('needs', i),
          message: `${formatPath(at('needs', i))}: unknown step "${n}"; steps: ${ids.join(', ')}`,
        });
      } else needs.add(n);
    });
    let refs: ReturnType<typeof findRefs> = [];
    try {
      refs = findRefs(step.with, at('with'));
    } catch (e) {
      problems.push({ path: at('with'), message: `${formatPath(at('with'))}: ${(e as Error).message}` });
    }
    for (const use of refs) {
      const where = `${formatPath(use.at)}: ${use.text}`;
      if (use.ref.kind === 'params') {
        if (getPath(params, use.ref.path) === undefined) {
          problems.push({
            path: use.at,
            message: `${where}: no parameter ${formatPath(use.ref.path)}; ${knownParams(params)}`,
          });
        }
        continue;
      }
      const target = spec.steps[use.ref.step];
      if (!target) {
        problems.push({
          path: use.at,
          message: `${where}: no step "${use.ref.step}"; steps: ${ids.join(', ')}`,
        });
        continue;
      }
      const targetDef = getStepDefinition(target.uses);
      if (targetDef && !targetDef.outputs.includes(use.ref.output)) {
        problems.push({
          path: use.at,
          message: `${where}: step "${use.ref.step}" (${target.uses}) has no output "${use.ref.output}"; its outputs: ${targetDef.outputs.join(', ')}`,
        });
      }
      needs.add(use.ref.step);
    }
    deps.set(id, [...needs]);
  }
  const { order, cycle } = topoSort(ids, deps);
  if (cycle) {
    problems.push({
      path: ['steps', cycle[0] as string],
      message: `steps: dependency cycle ${cycle.join(' → ')}`,
    });
  }
  if (problems.length > 0) fail(problems);

  // Inputs against each step type's schema, parameters applied; fields still holding a step reference
  // are only known at run time and are checked then.
  for (const id of order) {
    const step = spec.steps[id] as PipelineSpec['steps'][string];
    const def = getStepDefinition(step.uses);
    if (!def) continue;
    const withParams = resolveRefs(
      step.with,
      (ref) => (ref.kind === 'params' ? getPath(params, ref.path) : undefined),
      true,
    );
    const r = def.schema.safeParse(withParams);
    if (!r.success) {
      for (const issue of r.error.issues) {
        if (hasRef(getPath(withParams, issue.path as PathSegment[]))) continue;
        problems.push({
          path: ['steps', id, 'with', ...(issue.path as PathSegment[])],
          message: formatIssues(new z.ZodError([issue]), `steps.${id}.with`),
        });
      }
    } else if (def.check && !hasRef(withParams)) {
      try {
        def.check(r.data, { baseDir });
      } catch (e) {
        if (!(e instanceof ModelautoError)) throw e;
        const err = e;
        // An error in a referenced file already names that file and line.
        problems.push({
          path: ['steps', id, 'with'],
          message: err.location?.file
            ? err.message
            : /^with[.:[]/.test(err.message)
              ? `steps.${id}.${err.message}`
              : `steps.${id}.with: ${err.message}`,
        });
      }
    }
  }
  if (problems.length > 0) fail(problems);
  const resolvedSpec: PipelineSpec = { ...spec, params };
  return { spec: resolvedSpec, params, file, baseDir, order, deps };
}

function readDocument(file: string): { value: unknown; lineOf: (path: PathSegment[]) => number | undefined } {
  const yaml = readYamlFile(file, { what: 'pipeline', checkExtension: true });
  const value = yaml.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ModelautoError('INVALID_SPEC', 'expected a mapping with name, params and steps', {
      location: { file },
    });
  }
  return { value, lineOf: (path) => yaml.lineOf(path) };
}

function problemsError(
  problems: Problem[],
  file: string | undefined,
  lineOfPath: (path: PathSegment[]) => number | undefined,
): ModelautoError {
  const [first, ...rest] = problems;
  const firstLine = first ? lineOfPath(first.path) : undefined;
  const more = rest.map((p) => {
    const line = lineOfPath(p.path);
    return `\n${file ? `${file}${line ? `:${line}` : ''}: ` : ''}${p.message}`;
  });
  return new ModelautoError('INVALID_SPEC', `${first?.message ?? 'invalid pipeline'}${more.join('')}`, {
    ...(file ? { location: { file, ...(firstLine ? { line: firstLine } : {}) } } : {}),
  });
}

function knownParams(params: Record<string, JsonValue>): string {
  const known = leafPaths(params);
  return known.length > 0 ? `parameters: ${known.join(', ')}` : 'the pipeline declares no params';
}

/** Applies `--set` overrides; each must name a declared parameter (a typo is an error, not a new one). */
function applyOverrides(
  defaults: Record<string, JsonValue>,
  set: readonly string[] | Record<string, JsonValue>,
): Record<string, JsonValue> {
  const entries: [string, JsonValue][] = Array.isArray(set)
    ? (set as readonly string[]).map((item) => {
        const eq = item.indexOf('=');
        if (eq <= 0)
          throw new ModelautoError('USAGE', `--set ${JSON.stringify(item)}: expected <param path>=<value>`);
        return [item.slice(0, eq).trim(), readValue(item.slice(eq + 1))];
      })
    : Object.entries(set as Record<string, JsonValue>);
  let params: JsonValue = defaults;
  for (const [path, value] of entries) {
    const segments = parsePath(path, '--set');
    if (getPath(params, segments) === undefined) {
      throw new ModelautoError(
        'USAGE',
        `--set ${path}: no parameter ${formatPath(segments)}; ${knownParams(defaults)}`,
      );
    }
    params = setPath(params, segments, value, `--set ${path}`);
  }
  return params as Record<string, JsonValue>;
}

/** `--set` values are YAML scalars or flow collections: `0.01` is a number, `[1, 2]` a list, `abc` text. */
function readValue(text: string): JsonValue {
  try {
    return (parseYaml(text) ?? null) as JsonValue;
  } catch {
    return text;
  }
}
