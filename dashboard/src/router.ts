/** Hash routes (`#/models/mnist`): the server only serves `/`, and links survive a reload. */

export type Route =
  | { page: 'overview' }
  | { page: 'models' }
  | { page: 'model'; name: string }
  | { page: 'version'; name: string; version: number }
  | { page: 'live'; model: string | null }
  | { page: 'drift'; model: string | null }
  | { page: 'alerts' }
  | { page: 'runs'; kind: string | null }
  | { page: 'run'; id: string }
  | { page: 'pipelines'; status: string | null }
  | { page: 'pipeline'; id: string }
  | { page: 'missing'; path: string };

const enc = encodeURIComponent;

export const href = {
  overview: () => '#/',
  models: () => '#/models',
  model: (name: string) => `#/models/${enc(name)}`,
  version: (name: string, version: number) => `#/models/${enc(name)}/versions/${version}`,
  live: (model?: string) => (model ? `#/live/${enc(model)}` : '#/live'),
  drift: (model?: string) => (model ? `#/drift/${enc(model)}` : '#/drift'),
  alerts: () => '#/alerts',
  runs: (kind?: string) => (kind ? `#/runs?kind=${enc(kind)}` : '#/runs'),
  run: (id: string) => `#/runs/${enc(id)}`,
  pipelines: (status?: string) => (status ? `#/pipelines?status=${enc(status)}` : '#/pipelines'),
  pipeline: (id: string) => `#/pipelines/${enc(id)}`,
};

function decode(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path = '/', query = ''] = raw.split('?', 2);
  const parts = path.split('/').filter(Boolean).map(decode);
  if (parts.some((p) => p === null)) return { page: 'missing', path };
  const [a, b, c, d] = parts as string[];
  const params = new URLSearchParams(query);
  if (!a) return { page: 'overview' };
  if (a === 'models' && !b) return { page: 'models' };
  if (a === 'models' && b && !c) return { page: 'model', name: b };
  if (a === 'models' && b && c === 'versions' && d && /^[1-9]\d*$/.test(d) && parts.length === 4) {
    return { page: 'version', name: b, version: Number(d) };
  }
  if (a === 'live' && parts.length <= 2) return { page: 'live', model: b ?? null };
  if (a === 'drift' && parts.length <= 2) return { page: 'drift', model: b ?? null };
  if (a === 'alerts' && !b) return { page: 'alerts' };
  if (a === 'runs' && !b) return { page: 'runs', kind: params.get('kind') };
  if (a === 'runs' && b && !c) return { page: 'run', id: b };
  if (a === 'pipelines' && !b) return { page: 'pipelines', status: params.get('status') };
  if (a === 'pipelines' && b && !c) return { page: 'pipeline', id: b };
  return { page: 'missing', path };
}

/** Which top-level tab a route belongs to. */
export function section(route: Route): string {
  switch (route.page) {
    case 'model':
    case 'version':
    case 'models':
      return 'models';
    case 'run':
    case 'runs':
      return 'runs';
    case 'pipeline':
    case 'pipelines':
      return 'pipelines';
    default:
      return route.page;
  }
}
