/**
 * A long-running CLI command (`serve`, `dashboard`) in a child process: resolves with the URL it
 * prints once it listens, and a stop() that sends SIGTERM and returns the exit code and stderr.
 */
import { spawn } from 'node:child_process';

export interface SpawnedCli {
  url: string;
  stop(): Promise<{ code: number | null; stderr: string }>;
}

/** Runs `node --import tsx <entry> ...args` until stdout matches `listening` (its group 1 is the URL). */
export function spawnCli(
  entry: string,
  args: string[],
  listening: RegExp,
  env: NodeJS.ProcessEnv,
): Promise<SpawnedCli> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const m = listening.exec(out);
      if (!m) return;
      resolve({
        url: m[1] as string,
        stop: async () => {
          const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
          child.kill('SIGTERM');
          return { code: await exited, stderr };
        },
      });
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
  });
}
