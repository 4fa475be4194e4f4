/**
 * Which versions are loaded and which one answers: the server follows the registry.
 *
 * For each served model, the versions loaded are: the one `@champion` points at (without a champion,
 * the latest ready version), every other aliased version (TF Serving labels address them), and the
 * versions loaded through the admin API. When an alias moves (a registry command in another process,
 * seen by polling, or the admin API), the new version is loaded and warmed up first, then the routing
 * table is replaced in one assignment: requests already running finish on the old version, new ones
 * go to the new one, nothing fails. The old version is unloaded once its last request is done. A
 * version that fails to load leaves the previous routing in place and is reported in the status.
 *
 * Canary: a share of the requests that name no version goes to `@challenger`. The split is exact
 * (error diffusion, not a coin per request). Shadow: the challenger also answers a copy of requests;
 * its answers are recorded, never returned.
 */
import { ModelautoError } from '../core/errors.js';
import type { Stores } from '../store/open.js';
import type { AliasMove, ModelVersionRecord } from '../store/registry.js';
import type { BatcherOptions } from './batcher.js';
import { loadVersion, type LoadOptions } from './loader.js';
import type { ServeObserver } from './observer.js';
import { ServedVersion } from './served-version.js';
import type { ShadowRecorder } from './shadow.js';

export interface ManagerOptions {
  stores: Stores;
  /** Served models; undefined: every registered model (and models registered later). */
  models: string[] | undefined;
  load: LoadOptions;
  batching: BatcherOptions;
  /** How often the registry is read for alias moves (0: never, only the admin API moves). */
  pollIntervalMs: number;
  defaultAlias: string;
  challengerAlias: string;
  shadow: ShadowRecorder;
  log: (line: string) => void;
  /** Told about every batch each version runs. */
  observer?: ServeObserver;
}

export interface TrafficSettings {
  /** Share of requests without a version that the challenger answers, 0-100. */
  canaryPercent: number;
  /** The challenger also answers a copy of the champion's requests, recorded only. */
  shadow: boolean;
}

interface Routes {
  /** Answers requests that name no version. */
  primary: ServedVersion | null;
  challenger: ServedVersion | null;
  byVersion: Map<number, ServedVersion>;
  /** Registry aliases (alias → version) when last read. */
  aliases: Record<string, number>;
  latestReady: number | null;
}

class ModelEntry {
  routes: Routes = { primary: null, challenger: null, byVersion: new Map(), aliases: {}, latestReady: null };
  traffic: TrafficSettings = { canaryPercent: 0, shadow: false };
  canaryCredit = 0;
  readonly pinned = new Set<number>();
  readonly failures = new Map<number, string>();
  readonly loading = new Set<number>();
  /** The registry state the routes were built from. */
  seen = '';
  chain: Promise<void> = Promise.resolve();
  constructor(readonly name: string) {}
}

export type RouteKind = 'primary' | 'canary' | 'version' | 'label';

export interface Routed {
  version: ServedVersion;
  kind: RouteKind;
}

const ADMIN_ACTOR = 'modelauto serve (admin API)';

export class ModelManager {
  private readonly entries = new Map<string, ModelEntry>();
  /** Models unloaded through the admin API: polling does not bring them back. */
  private readonly excluded = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: ManagerOptions) {}

  /** Loads every served model; fails when a model named in `models` is not registered. */
  async start(): Promise<void> {
    const names = this.options.models ?? (await this.options.stores.registry.listModels()).map((m) => m.name);
    for (const name of names) {
      await this.options.stores.registry.getModel(name);
      this.entries.set(name, new ModelEntry(name));
    }
    for (const entry of this.entries.values()) await this.sync(entry, false);
    if (this.options.pollIntervalMs > 0) this.schedulePoll();
  }

  private schedulePoll(): void {
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        if (!this.closed) this.schedulePoll();
      });
    }, this.options.pollIntervalMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    try {
      if (!this.options.models) {
        for (const m of await this.options.stores.registry.listModels()) {
          if (!this.entries.has(m.name) && !this.excluded.has(m.name))
            this.entries.set(m.name, new ModelEntry(m.name));
        }
      }
      for (const entry of this.entries.values()) await this.sync(entry, false);
    } catch (e) {
      this.options.log(`registry poll failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  get modelNames(): string[] {
    return [...this.entries.keys()].sort();
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  private entry(name: string): ModelEntry {
    const e = this.entries.get(name);
    if (!e) {
      throw new ModelautoError(
        'NOT_FOUND',
        `model ${JSON.stringify(name)} is not served here; served models: ${this.modelNames.join(', ') || '(none)'}`,
      );
    }
    return e;
  }

  /** Every served model has a version answering. */
  notReady(): string[] {
    return [...this.entries.values()].filter((e) => !e.routes.primary).map((e) => e.name);
  }

  /**
   * The version that answers a request, marked in use (the caller releases it). `version` or `label`
   * address one version; without them the primary answers, or the challenger for the canary share.
   */
  route(name: string, target: { version?: number; label?: string } = {}): Routed {
    const routed = this.pick(this.entry(name), target, true);
    routed.version.acquire();
    return routed;
  }

  /** The version a request would address, for metadata: no canary share, not marked in use. */
  peek(name: string, target: { version?: number; label?: string } = {}): ServedVersion {
    return this.pick(this.entry(name), target, false).version;
  }

  private pick(e: ModelEntry, target: { version?: number; label?: string }, canary: boolean): Routed {
    const r = e.routes;
    if (target.version !== undefined) {
      const v = r.byVersion.get(target.version);
      if (!v) throw this.notLoaded(e, target.version);
      return { version: v, kind: 'version' };
    }
    if (target.label !== undefined) {
      const n = r.aliases[target.label];
      if (n === undefined) {
        const known = Object.keys(r.aliases).sort();
        throw new ModelautoError(
          'NOT_FOUND',
          `model ${e.name} has no label (alias) ${JSON.stringify(target.label)}; its aliases: ${known.join(', ') || '(none)'}`,
        );
      }
      const v = r.byVersion.get(n);
      if (!v) throw this.notLoaded(e, n);
      return { version: v, kind: 'label' };
    }
    if (!r.primary) {
      const why = e.failures.size
        ? ` (load failures: ${[...e.failures].map(([v, m]) => `v${v}: ${m}`).join('; ')})`
        : '';
      throw new ModelautoError(
        'UNAVAILABLE',
        `model ${e.name} has no version to serve: no @${this.options.defaultAlias} alias and no ready version${why}`,
      );
    }
    if (canary && e.traffic.canaryPercent > 0 && r.challenger && r.challenger !== r.primary) {
      e.canaryCredit += e.traffic.canaryPercent / 100;
      if (e.canaryCredit >= 1 - 1e-9) {
        e.canaryCredit -= 1;
        return { version: r.challenger, kind: 'canary' };
      }
    }
    return { version: r.primary, kind: 'primary' };
  }

  /** The challenger to shadow a primary answer with, marked in use; undefined when shadowing is off. */
  shadowFor(name: string, routed: Routed): ServedVersion | undefined {
    const e = this.entries.get(name);
    const c = e?.routes.challenger;
    if (!e || !e.traffic.shadow || routed.kind !== 'primary' || !c || c === routed.version) return undefined;
    try {
      c.acquire();
      return c;
    } catch {
      return undefined;
    }
  }

  private notLoaded(e: ModelEntry, version: number): ModelautoError {
    const failure = e.failures.get(version);
    if (failure)
      return new ModelautoError('UNAVAILABLE', `version ${version} of ${e.name} failed to load: ${failure}`);
    if (e.loading.has(version))
      return new ModelautoError('UNAVAILABLE', `version ${version} of ${e.name} is loading`);
    const loaded = [...e.routes.byVersion.keys()].sort((a, b) => a - b);
    return new ModelautoError(
      'NOT_FOUND',
      `version ${version} of ${e.name} is not loaded; loaded versions: ${loaded.join(', ') || '(none)'} (load others with POST /admin/models/${e.name}/load)`,
    );
  }

  /** Versions the server knows for a model (loaded, loading, failed), newest first. */
  versions(name: string): { version: number; state: string; error: string | null }[] {
    const e = this.entry(name);
    const out = new Map<number, { version: number; state: string; error: string | null }>();
    for (const [v, sv] of e.routes.byVersion) out.set(v, { version: v, state: sv.state, error: null });
    for (const v of e.loading) if (!out.has(v)) out.set(v, { version: v, state: 'LOADING', error: null });
    for (const [v, m] of e.failures) if (!out.has(v)) out.set(v, { version: v, state: 'END', error: m });
    return [...out.values()].sort((a, b) => b.version - a.version);
  }

  /** The version an alias (TF Serving label) points at, as last read from the registry. */
  aliasVersion(name: string, label: string): number | undefined {
    return this.entry(name).routes.aliases[label];
  }

  /** Re-reads the registry for a model and applies what changed (waits for earlier syncs). */
  async refresh(name: string): Promise<void> {
    await this.sync(this.entry(name), true);
  }

  private sync(entry: ModelEntry, force: boolean): Promise<void> {
    const next = entry.chain.then(() => this.reconcile(entry, force));
    entry.chain = next.catch(() => undefined);
    return next;
  }

  private async reconcile(entry: ModelEntry, force: boolean): Promise<void> {
    if (this.closed) return;
    const { registry } = this.options.stores;
    const model = await registry.getModel(entry.name);
    const aliases = { ...model.aliases };
    let latestReady: number | null = null;
    if (aliases[this.options.defaultAlias] === undefined) {
      latestReady = await registry.resolve(entry.name).then(
        (v) => v.version,
        (e: unknown) => {
          if (e instanceof ModelautoError && e.code === 'NOT_FOUND') return null;
          throw e;
        },
      );
    }
    const seen = JSON.stringify({ aliases, latestReady, pinned: [...entry.pinned].sort() });
    if (!force && seen === entry.seen) return;
    const defaultVersion = aliases[this.options.defaultAlias] ?? latestReady;
    const wanted = new Set<number>([...Object.values(aliases), ...entry.pinned]);
    if (defaultVersion !== null) wanted.add(defaultVersion);
    const current = entry.routes;
    const next = new Map<number, ServedVersion>();
    for (const v of [...wanted].sort((a, b) => a - b)) {
      const loaded = current.byVersion.get(v);
      if (loaded) {
        next.set(v, loaded);
        continue;
      }
      const sv = await this.loadOne(entry, v);
      if (sv) next.set(v, sv);
    }
    let primary = defaultVersion !== null ? (next.get(defaultVersion) ?? null) : null;
    if (!primary && current.primary && current.primary.state === 'AVAILABLE') {
      // The new default did not load: keep answering with the old one rather than with nothing.
      primary = current.primary;
      next.set(primary.version, primary);
    }
    const challengerVersion = aliases[this.options.challengerAlias];
    const challenger = challengerVersion !== undefined ? (next.get(challengerVersion) ?? null) : null;
    entry.routes = { primary, challenger, byVersion: next, aliases, latestReady };
    entry.seen = seen;
    for (const v of entry.failures.keys()) if (!wanted.has(v)) entry.failures.delete(v);
    if (primary !== current.primary) {
      this.options.log(
        `${entry.name}: answering with version ${primary?.version ?? '(none)'}` +
          (current.primary ? ` (was ${current.primary.version})` : '') +
          (primary ? ` [${primary.loaded.runtime.kind}: ${primary.loaded.source}]` : ''),
      );
    }
    const retired = [...current.byVersion.values()].filter((sv) => next.get(sv.version) !== sv);
    await Promise.all(retired.map((sv) => sv.retire()));
    for (const sv of retired) this.options.log(`${entry.name}: unloaded version ${sv.version}`);
  }

  private async loadOne(entry: ModelEntry, version: number): Promise<ServedVersion | undefined> {
    entry.loading.add(version);
    const started = performance.now();
    try {
      const record: ModelVersionRecord = await this.options.stores.registry.getVersion(entry.name, version);
      const loaded = await loadVersion(this.options.stores.tracking, record, this.options.load);
      const sv = new ServedVersion(record, loaded, this.options.batching, this.options.observer);
      try {
        await sv.warmUp(this.options.batching.maxBatch);
      } catch (e) {
        await loaded.runtime.release();
        throw e;
      }
      entry.failures.delete(version);
      this.options.log(
        `${entry.name}: loaded version ${version} with ${loaded.runtime.kind} from ${loaded.source} ` +
          `(${(performance.now() - started).toFixed(0)} ms with warm-up)`,
      );
      return sv;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      entry.failures.set(version, message);
      this.options.log(`${entry.name}: version ${version} failed to load: ${message}`);
      return undefined;
    } finally {
      entry.loading.delete(version);
    }
  }

  // ---- admin operations ----

  /** Serves a model (when it is not served yet) and keeps `version` loaded (when given). */
  async load(name: string, version?: number): Promise<void> {
    await this.options.stores.registry.getModel(name);
    if (version !== undefined) await this.options.stores.registry.getVersion(name, version);
    this.excluded.delete(name);
    let e = this.entries.get(name);
    if (!e) {
      e = new ModelEntry(name);
      this.entries.set(name, e);
    }
    if (version !== undefined) {
      e.pinned.add(version);
      e.failures.delete(version);
    }
    await this.sync(e, true);
    if (version !== undefined && !e.routes.byVersion.has(version)) {
      throw new ModelautoError(
        'UNAVAILABLE',
        `version ${version} of ${name} failed to load: ${e.failures.get(version) ?? 'unknown error'}`,
      );
    }
  }

  /** Unloads a version loaded through `load` (aliased versions stay), or stops serving the model. */
  async unload(name: string, version?: number): Promise<void> {
    const e = this.entry(name);
    if (version === undefined) {
      this.entries.delete(name);
      this.excluded.add(name);
      await e.chain;
      await Promise.all([...e.routes.byVersion.values()].map((sv) => sv.retire()));
      this.options.log(`${name}: no longer served`);
      return;
    }
    const aliased = Object.entries(e.routes.aliases)
      .filter(([, v]) => v === version)
      .map(([a]) => `@${a}`);
    if (aliased.length > 0 || e.routes.primary?.version === version) {
      throw new ModelautoError(
        'CONFLICT',
        `version ${version} of ${name} is ${aliased.length ? aliased.join(', ') : 'the answering version'}: move the alias before unloading it`,
      );
    }
    if (!e.pinned.delete(version) && !e.routes.byVersion.has(version)) {
      throw new ModelautoError('NOT_FOUND', `version ${version} of ${name} is not loaded`);
    }
    await this.sync(e, true);
  }

  async setAlias(name: string, alias: string, version: number, reason?: string): Promise<AliasMove | null> {
    this.entry(name);
    const move = await this.options.stores.registry.setAlias(name, alias, version, {
      actor: ADMIN_ACTOR,
      ...(reason ? { reason } : {}),
    });
    await this.refresh(name);
    return move;
  }

  async deleteAlias(name: string, alias: string, reason?: string): Promise<AliasMove> {
    this.entry(name);
    const move = await this.options.stores.registry.deleteAlias(name, alias, {
      actor: ADMIN_ACTOR,
      ...(reason ? { reason } : {}),
    });
    await this.refresh(name);
    return move;
  }

  async rollbackAlias(name: string, alias: string, reason?: string): Promise<AliasMove> {
    this.entry(name);
    const move = await this.options.stores.registry.rollbackAlias(name, alias, {
      actor: ADMIN_ACTOR,
      ...(reason ? { reason } : {}),
    });
    await this.refresh(name);
    return move;
  }

  setTraffic(name: string, traffic: TrafficSettings): void {
    const e = this.entry(name);
    if (
      (traffic.canaryPercent > 0 || traffic.shadow) &&
      e.routes.aliases[this.options.challengerAlias] === undefined
    ) {
      throw new ModelautoError(
        'CONFLICT',
        `model ${name} has no @${this.options.challengerAlias} alias: point it at a version before sending it traffic`,
      );
    }
    e.traffic = { ...traffic };
    e.canaryCredit = 0;
    this.options.log(`${name}: canary ${traffic.canaryPercent}%, shadow ${traffic.shadow ? 'on' : 'off'}`);
  }

  /** Everything the admin API shows about a model. */
  describe(name: string): ModelState {
    const e = this.entry(name);
    const r = e.routes;
    return {
      name,
      answering: r.primary?.version ?? null,
      challenger: r.challenger?.version ?? null,
      aliases: r.aliases,
      latestReady: r.latestReady,
      traffic: { ...e.traffic },
      pinned: [...e.pinned].sort((a, b) => a - b),
      versions: [...r.byVersion.values()]
        .sort((a, b) => b.version - a.version)
        .map((sv) => ({
          version: sv.version,
          state: sv.state,
          runtime: sv.loaded.runtime.kind,
          source: sv.loaded.source,
          loadedAt: sv.loadedAt,
          requests: sv.stats.requests,
          rows: sv.stats.rows,
          errors: sv.stats.errors,
          batches: sv.batcher.stats.batches,
          meanBatch: sv.batcher.stats.batches ? sv.batcher.stats.rows / sv.batcher.stats.batches : 0,
          largestBatch: sv.batcher.stats.largestBatch,
          queueFull: sv.batcher.stats.rejected,
          queuedRows: sv.batcher.queuedRows,
        })),
      failures: Object.fromEntries([...e.failures].map(([v, m]) => [String(v), m])),
      shadow: this.options.shadow.summary(name),
    };
  }

  /** Stops polling and unloads every version once its requests are done. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    const entries = [...this.entries.values()];
    await Promise.all(entries.map((e) => e.chain));
    await Promise.all(entries.flatMap((e) => [...e.routes.byVersion.values()].map((sv) => sv.retire())));
  }
}

export interface ModelState {
  name: string;
  answering: number | null;
  challenger: number | null;
  aliases: Record<string, number>;
  latestReady: number | null;
  traffic: TrafficSettings;
  pinned: number[];
  versions: {
    version: number;
    state: string;
    runtime: string;
    source: string;
    loadedAt: number;
    requests: number;
    rows: number;
    errors: number;
    batches: number;
    meanBatch: number;
    largestBatch: number;
    queueFull: number;
    queuedRows: number;
  }[];
  failures: Record<string, string>;
  shadow: ReturnType<ShadowRecorder['summary']>;
}
