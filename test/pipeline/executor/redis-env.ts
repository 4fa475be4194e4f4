/**
 * The Redis server the executor tests use: $MODELAUTO_TEST_REDIS, else the local one
 * (redis://127.0.0.1:6379). Each test works under a fresh key prefix that it deletes afterwards.
 * When the server is unreachable the tests are skipped with the reason, except when $CI is set:
 * there they fail, so CI can never pass without running them (as test/store/pg-env.ts does).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, it } from 'vitest';

export const REDIS_TEST_URL = process.env['MODELAUTO_TEST_REDIS']?.trim() || 'redis://127.0.0.1:6379';

async function probe(): Promise<string | undefined> {
  const client = new Redis(REDIS_TEST_URL, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (e) {
    return `Redis at ${REDIS_TEST_URL.replace(/:[^:@/]*@/, ':***@')} is unreachable (${(e as Error).message})`;
  } finally {
    client.disconnect();
  }
}

const unreachable = await probe();

/** `describe` when Redis answers; otherwise a skipped suite (a failing test when $CI is set). */
export function describeRedis(name: string, body: () => void): void {
  if (unreachable === undefined) {
    describe(name, body);
  } else if (process.env['CI']) {
    describe(name, () => {
      it('needs Redis: these tests are never skipped in CI', () => {
        throw new Error(
          `${unreachable}; start it (redis-server --daemonize yes) or set MODELAUTO_TEST_REDIS`,
        );
      });
    });
  } else {
    console.warn(`skipping "${name}": ${unreachable} (set CI=1 to make this a failure)`);
    describe.skip(`${name} (skipped: ${unreachable})`, body);
  }
}

export function freshPrefix(): string {
  return `modelauto-test-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under the prefix (the queue's jobs, events, locks). */
export async function deletePrefix(prefix: string): Promise<void> {
  if (unreachable !== undefined) return;
  const client = new Redis(REDIS_TEST_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** Reads a raw Redis value (inspection in tests). */
export async function redisCommand(...args: string[]): Promise<unknown> {
  const client = new Redis(REDIS_TEST_URL);
  try {
    return await client.call(args[0] ?? 'PING', ...args.slice(1));
  } finally {
    client.disconnect();
  }
}
