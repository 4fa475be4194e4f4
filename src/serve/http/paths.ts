/**
 * The URL paths of both protocols, parsed by hand: model names, versions and labels are validated here
 * (registry rules: no "/", no "..", nothing percent-encoded past them), so a path can never name
 * anything but a served model.
 *
 * TF Serving: /v1/models/{m}[/versions/{v} | /labels/{l}][:predict | :classify | :regress | /metadata]
 * OIP v2:     /v2/models/{m}[/versions/{v}][/ready | /infer]
 */
import { ALIAS_PATTERN, MODEL_NAME_PATTERN } from '../../store/registry.js';
import { bad } from '../decode-values.js';

export interface ModelTarget {
  model: string;
  version?: number;
  label?: string;
}

export type TfAction = 'status' | 'metadata' | 'predict' | 'classify' | 'regress';
export type OipAction = 'metadata' | 'ready' | 'infer';

function segment(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw bad(`invalid ${what} ${JSON.stringify(raw)} in the URL: bad percent-encoding`);
  }
}

export function modelName(raw: string): string {
  const name = segment(raw, 'model name');
  if (!MODEL_NAME_PATTERN.test(name) || name.includes('..')) {
    throw bad(
      `invalid model name ${JSON.stringify(name)}: expected 1-64 lowercase letters, digits, "_", "." or "-", starting with a letter or digit, without ".."`,
    );
  }
  return name;
}

export function versionNumber(raw: string): number {
  const v = segment(raw, 'version');
  if (!/^[1-9]\d{0,8}$/.test(v))
    throw bad(`invalid version ${JSON.stringify(v)}: expected a positive integer such as 3`);
  return Number(v);
}

export function labelName(raw: string): string {
  const l = segment(raw, 'label');
  if (!ALIAS_PATTERN.test(l)) {
    throw bad(
      `invalid label ${JSON.stringify(l)}: expected an alias of lowercase letters, digits, "_" or "-", starting with a letter`,
    );
  }
  return l;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q >= 0 ? url.slice(0, q) : url;
}

const TF_METHODS: Record<string, TfAction> = { predict: 'predict', classify: 'classify', regress: 'regress' };

/** `rest` is the part after `/v1/models/`. */
export function parseTfPath(url: string): { target: ModelTarget; action: TfAction } {
  const rest = pathOf(url).slice('/v1/models/'.length);
  let action: TfAction = 'status';
  let body = rest;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0 && !rest.slice(colon).includes('/')) {
    const method = rest.slice(colon + 1);
    const known = TF_METHODS[method];
    if (!known) throw bad(`unknown method ":${method}"; expected :predict, :classify or :regress`);
    action = known;
    body = rest.slice(0, colon);
  }
  const parts = body.split('/');
  if (parts[parts.length - 1] === 'metadata' && action === 'status' && parts.length > 1) {
    action = 'metadata';
    parts.pop();
  }
  const target = targetOf(parts, true, url);
  return { target, action };
}

/** `rest` is the part after `/v2/models/`. */
export function parseOipPath(url: string): { target: ModelTarget; action: OipAction } {
  const parts = pathOf(url).slice('/v2/models/'.length).split('/');
  let action: OipAction = 'metadata';
  const last = parts[parts.length - 1];
  if (parts.length > 1 && (last === 'ready' || last === 'infer')) {
    action = last;
    parts.pop();
  }
  return { target: targetOf(parts, false, url), action };
}

function targetOf(parts: string[], labels: boolean, url: string): ModelTarget {
  const [name, kind, value, ...extra] = parts;
  if (name === undefined || name === '') throw bad(`missing model name in ${JSON.stringify(pathOf(url))}`);
  const target: ModelTarget = { model: modelName(name) };
  if (kind === undefined) return target;
  if (value === undefined || extra.length > 0 || (kind !== 'versions' && !(labels && kind === 'labels'))) {
    throw notRoute(url, labels);
  }
  if (kind === 'versions') target.version = versionNumber(value);
  else target.label = labelName(value);
  return target;
}

function notRoute(url: string, labels: boolean) {
  return bad(
    `malformed path ${JSON.stringify(pathOf(url))}: expected ` +
      (labels
        ? '/v1/models/<name>[/versions/<n> | /labels/<label>][:predict | :classify | :regress | /metadata]'
        : '/v2/models/<name>[/versions/<n>][/ready | /infer]'),
  );
}
