/**
 * Where the BullMQ queue lives: a Redis URL (`redis://[user:password@]host[:port][/db]`, `rediss://`
 * for TLS) from `--redis` or $MODELAUTO_REDIS, and the queue's name and key prefix. There is no
 * default server: a worker or executor that silently talked to some other Redis would never see
 * the jobs it was meant to.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { ModelautoError } from '../../core/errors.js';

export const REDIS_ENV_VAR = 'MODELAUTO_REDIS';
/** The queue every worker and executor uses unless told otherwise. */
export const DEFAULT_QUEUE = 'modelauto';
/** Prefix of the queue's Redis keys (`modelauto:<queue>:...`). */
export const DEFAULT_PREFIX = 'modelauto';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const PROBE_TIMEOUT_MS = 5_000;

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
  /** The URL without its password, for messages. */
  location: string;
}

export interface QueueLocation {
  /** Redis URL; default $MODELAUTO_REDIS. */
  redis?: string | undefined;
  /** Default `modelauto`. */
  queue?: string | undefined;
  /** Default `modelauto`. */
  prefix?: string | undefined;
}

export interface ResolvedQueueLocation {
  redis: RedisTarget;
  queue: string;
  prefix: string;
}

/** Fills in the defaults and validates; USAGE errors name the flag or variable at fault. */
export function resolveQueueLocation(location: QueueLocation): ResolvedQueueLocation {
  const explicit = location.redis?.trim();
  const fromEnv = process.env[REDIS_ENV_VAR]?.trim();
  const url = explicit || fromEnv;
  if (!url) {
    throw new ModelautoError(
      'USAGE',
      `no Redis server given: pass --redis redis://host:6379[/db] or set ${REDIS_ENV_VAR}`,
    );
  }
  return {
    redis: parseRedisUrl(url, explicit ? '--redis' : REDIS_ENV_VAR),
    queue: checkName(location.queue ?? DEFAULT_QUEUE, '--queue'),
    prefix: checkName(location.prefix ?? DEFAULT_PREFIX, '--prefix'),
  };
}

export function parseRedisUrl(url: string, where = '--redis'): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ModelautoError('USAGE', 'malformed Redis URL; expected redis://host:6379[/db]', {
      location: { path: where },
    });
  }
  const scheme = parsed.protocol.replace(/:$/, '').toLowerCase();
  if (scheme !== 'redis' && scheme !== 'rediss') {
    throw new ModelautoError(
      'USAGE',
      `expected a redis:// or rediss:// URL, got "${scheme}:"; e.g. redis://127.0.0.1:6379/0`,
      { location: { path: where } },
    );
  }
  if (!parsed.hostname) {
    throw new ModelautoError('USAGE', 'the Redis URL has no host; expected redis://host:6379[/db]', {
      location: { path: where },
    });
  }
  const dbText = parsed.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,5}$/.test(dbText)) {
    throw new ModelautoError(
      'USAGE',
      `the Redis database must be a number (redis://host:port/<db>), got "${decodeURIComponent(dbText)}"`,
      { location: { path: where } },
    );
  }
  if ([...parsed.searchParams.keys()].length > 0 || parsed.hash) {
    throw new ModelautoError(
      'USAGE',
      'the Redis URL takes no query or fragment; expected redis://host:6379[/db]',
      {
        location: { path: where },
      },
    );
  }
  const port = parsed.port ? Number(parsed.port) : 6379;
  const db = dbText === '' ? 0 : Number(dbText);
  const username = parsed.username ? decodeURIComponent(parsed.username) : undefined;
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  const user = username ? `${username}@` : '';
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    db,
    username,
    password,
    tls: scheme === 'rediss',
    location: `${scheme}://${user}${parsed.host}/${db}`,
  };
}

/**
 * ioredis options for BullMQ's connections. `maxRetriesPerRequest: null` is what BullMQ needs for
 * its blocking connections: a command waits through a Redis restart instead of failing the worker.
 */
export function redisOptions(target: RedisTarget): RedisOptions {
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/**
 * Fails fast with UNAVAILABLE when Redis does not answer: BullMQ's own connections retry forever,
 * which is right once running but turns a typo in the URL into a silent hang.
 */
export async function probeRedis(target: RedisTarget, timeoutMs = PROBE_TIMEOUT_MS): Promise<void> {
  const client = new Redis({
    ...redisOptions(target),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // Without a listener ioredis reports connection errors as unhandled 'error' events.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new ModelautoError(
      'UNAVAILABLE',
      `Redis at ${target.location} is unreachable: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  } finally {
    client.disconnect();
  }
}

function checkName(value: string, flag: string): string {
  if (!NAME.test(value)) {
    throw new ModelautoError(
      'USAGE',
      `expected 1-100 letters, digits, "_", "." or "-" (no ":"), starting with a letter or digit; got ${JSON.stringify(value)}`,
      { location: { path: flag } },
    );
  }
  return value;
}
