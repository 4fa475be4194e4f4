import { execFileSync } from 'node:child_process';

/** The current git commit of `cwd`, with `-dirty` when the work tree has changes; undefined outside git. */
export function gitCommit(cwd = process.cwd()): string | undefined {
  try {
    const opts = {
      cwd,
      encoding: 'utf8' as const,
      stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'],
    };
    const head = execFileSync('git', ['rev-parse', 'HEAD'], opts).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return undefined;
  }
}
