/**
 * A strict reader of the Prometheus text exposition format (0.0.4) for the tests: every line must be
 * a HELP, a TYPE or a sample of a declared family, label values are unescaped, values parsed.
 * Anything else throws, naming the line.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/;
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created'];

function family(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const s of SUFFIXES)
    if (name.endsWith(s) && types.has(name.slice(0, -s.length))) return name.slice(0, -s.length);
  return undefined;
}

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  // prom-client writes NaN as "Nan"; Prometheus parses floats with Go's ParseFloat, which takes any case.
  if (/^nan$/i.test(text)) return Number.NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text))
    throw new Error(`line ${line}: bad value ${JSON.stringify(text)}`);
  return Number(text);
}

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw === '') return;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(raw);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest))
          throw new Error(`line ${line}: bad type ${rest}`);
        types.set(name, rest);
      } else {
        help.set(name, rest);
      }
      return;
    }
    if (raw.startsWith('#')) throw new Error(`line ${line}: unexpected comment ${raw}`);
    const nameMatch = NAME.exec(raw);
    if (!nameMatch) throw new Error(`line ${line}: no metric name in ${raw}`);
    const name = nameMatch[0];
    let rest = raw.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      rest = rest.slice(1);
      while (!rest.startsWith('}')) {
        const m = LABEL.exec(rest);
        if (!m) throw new Error(`line ${line}: bad label list at ${rest}`);
        labels[m[1] as string] = (m[2] as string).replace(/\\(["\\n])/g, (_, c: string) =>
          c === 'n' ? '\n' : c,
        );
        rest = rest.slice(m[0].length);
        if (rest.startsWith(',')) rest = rest.slice(1);
      }
      rest = rest.slice(1);
    }
    const parts = rest.trim().split(/\s+/);
    if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2)
      throw new Error(`line ${line}: bad sample ${raw}`);
    if (family(name, types) === undefined) throw new Error(`line ${line}: sample ${name} has no # TYPE`);
    samples.push({ name, labels, value: parseValue(parts[0] as string, line) });
  });
  return { types, help, samples };
}

/** The value of the one sample with exactly these labels (undefined when there is none). */
export function sample(e: Exposition, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels);
  const found = e.samples.filter(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === wanted.length &&
      wanted.every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1)
    throw new Error(`${found.length} samples of ${name} with labels ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
