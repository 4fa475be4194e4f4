import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseAt, parseYamlText, readYamlFile } from '../../src/core/yaml-file.js';

const dir = mkdtempSync(join(tmpdir(), 'yaml-file-'));

describe('readYamlFile / parseAt', () => {
  it('points a schema error at the line of the bad field, under a prefix', () => {
    const yaml = parseYamlText('a: 1\nrules:\n  - name: x\n    threshold: high\n', 'f.yaml');
    const schema = z.strictObject({
      rules: z.array(z.strictObject({ name: z.string(), threshold: z.number() })),
    });
    expect(() => parseAt(schema, { rules: (yaml.value as { rules: unknown }).rules }, yaml)).toThrow(
      /rules\[0\]\.threshold/,
    );
    try {
      parseAt(
        z.array(z.strictObject({ name: z.string(), threshold: z.number() })),
        (yaml.value as { rules: unknown }).rules,
        yaml,
        ['rules'],
      );
      expect.unreachable();
    } catch (e) {
      expect((e as { location?: { line?: number } }).location).toEqual({ file: 'f.yaml', line: 4 });
      expect((e as Error).message).toMatch(/rules\[0\]\.threshold/);
    }
  });

  it('reports YAML syntax errors with their line, missing files and wrong extensions', () => {
    expect(() => parseYamlText('a: 1\nb: [1, 2\n', 'bad.yaml')).toThrow(/invalid YAML/);
    expect(() => readYamlFile(join(dir, 'missing.yaml'), { what: 'spec' })).toThrow(
      /cannot read spec .*ENOENT/,
    );
    const txt = join(dir, 'spec.txt');
    writeFileSync(txt, 'a: 1\n');
    expect(() => readYamlFile(txt, { what: 'spec', checkExtension: true })).toThrow(
      /expected a .yaml, .yml or .json spec file/,
    );
    expect(readYamlFile(txt, { what: 'spec' }).value).toEqual({ a: 1 });
  });

  it('refuses duplicate keys', () => {
    expect(() => parseYamlText('a: 1\na: 2\n', 'dup.yaml')).toThrow(/invalid YAML/);
  });
});
