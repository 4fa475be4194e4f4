/**
 * Runs the real store code in separate Node processes. Node 20 cannot import .ts, so the store's
 * module closure is transpiled (types stripped, nothing bundled) into a temp folder that resolves
 * packages through a symlink to this project's node_modules.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';

const execFileAsync = promisify(execFile);
const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Transpiles `entry` (a path under src/) and every relative import it reaches into `outDir`. */
export async function transpileClosure(entry: string, outDir: string): Promise<string> {
  const seen = new Set<string>();
  const queue = [resolve(PROJECT, entry)];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    for (const m of source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g))
      queue.push(resolve(dirname(file), `${m[1]}.ts`));
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
      },
      fileName: file,
    });
    const out = join(outDir, relative(PROJECT, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, outputText);
  }
  await writeFile(join(outDir, 'package.json'), '{"type":"module"}\n');
  await symlink(join(PROJECT, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  return join(outDir, relative(PROJECT, resolve(PROJECT, entry))).replace(/\.ts$/, '.js');
}

/** Runs an ES module script with node and returns its stdout. */
export async function runNodeScript(script: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, [script, ...args], { timeout: 30_000 });
  return stdout;
}
