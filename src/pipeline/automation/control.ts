/**
 * Moving a served model's aliases and canary share, whichever way the server is reached:
 * - in this process (a deployment a pipeline started): the registry move is recorded with the
 *   pipeline as the actor and the reason given, then the server re-reads the registry and loads and
 *   warms the new version before it answers;
 * - another process: the server's admin API (`/admin/...`, bearer token), which does the same.
 * Every move goes into the registry's alias history with its reason, which the dashboard shows.
 */
import { ModelautoError } from '../../core/errors.js';
import type { ModelState } from '../../serve/manager.js';
import type { RunningServer } from '../../serve/server.js';
import type { Stores } from '../../store/open.js';
import type { AliasMove } from '../../store/registry.js';
import { ServerClient } from './client.js';

export interface ServedState {
  answering: number | null;
  challenger: number | null;
  aliases: Record<string, number>;
  canaryPercent: number;
}

export interface DeploymentControl {
  readonly url: string;
  /** The alias the canary share goes to (the server's challenger alias). */
  readonly challengerAlias: string;
  /** Points `alias` at `version` (recorded with `reason`) and returns once the server follows it. */
  setAlias(model: string, alias: string, version: number, reason: string): Promise<AliasMove | null>;
  /** Removes the alias (recorded with `reason`); null when it was not set. */
  deleteAlias(model: string, alias: string, reason: string): Promise<AliasMove | null>;
  /** Share of requests (0-100) without a version that the challenger answers. */
  setCanary(model: string, percent: number): Promise<void>;
  state(model: string): Promise<ServedState>;
}

function stateOf(s: ModelState): ServedState {
  return {
    answering: s.answering,
    challenger: s.challenger,
    aliases: s.aliases,
    canaryPercent: s.traffic.canaryPercent,
  };
}

/** A server running in this process, with the stores it reads its registry from. */
export class InProcessControl implements DeploymentControl {
  readonly url: string;
  readonly challengerAlias: string;

  constructor(
    private readonly server: RunningServer,
    private readonly stores: Stores,
    private readonly actor: string,
  ) {
    this.url = server.url;
    this.challengerAlias = server.options.challengerAlias;
  }

  /** Re-reads the registry; a version that did not load is an error, not a silent keep-the-old. */
  private async follow(model: string, version: number | null): Promise<void> {
    const manager = this.server.manager;
    if (!manager.has(model)) await manager.load(model);
    else await manager.refresh(model);
    if (version === null) return;
    const state = manager.describe(model);
    if (!state.versions.some((v) => v.version === version)) {
      throw new ModelautoError(
        'UNAVAILABLE',
        `${model}:${version} did not load on ${this.url}: ${state.failures[String(version)] ?? 'unknown error'}`,
      );
    }
  }

  async setAlias(model: string, alias: string, version: number, reason: string): Promise<AliasMove | null> {
    const move = await this.stores.registry.setAlias(model, alias, version, { actor: this.actor, reason });
    await this.follow(model, version);
    return move;
  }

  async deleteAlias(model: string, alias: string, reason: string): Promise<AliasMove | null> {
    const current = (await this.stores.registry.getModel(model)).aliases[alias];
    if (current === undefined) return null;
    if (alias === this.challengerAlias)
      this.server.manager.setTraffic(model, { canaryPercent: 0, shadow: false });
    const move = await this.stores.registry.deleteAlias(model, alias, { actor: this.actor, reason });
    await this.follow(model, null);
    return move;
  }

  async setCanary(model: string, percent: number): Promise<void> {
    this.server.manager.setTraffic(model, { canaryPercent: percent, shadow: false });
  }

  async state(model: string): Promise<ServedState> {
    return stateOf(this.server.manager.describe(model));
  }
}

/** A server elsewhere, through its admin API. */
export class AdminApiControl implements DeploymentControl {
  private readonly client: ServerClient;

  constructor(
    readonly url: string,
    token: string,
    readonly challengerAlias = 'challenger',
  ) {
    this.client = new ServerClient(url, { adminToken: token });
  }

  private path(model: string, rest = ''): string {
    return `/admin/models/${encodeURIComponent(model)}${rest}`;
  }

  async setAlias(model: string, alias: string, version: number, reason: string): Promise<AliasMove | null> {
    const r = await this.client.request<{ move: AliasMove | null }>(
      'PUT',
      this.path(model, `/aliases/${encodeURIComponent(alias)}`),
      { version, reason },
    );
    return r.move;
  }

  async deleteAlias(model: string, alias: string, reason: string): Promise<AliasMove | null> {
    const state = await this.state(model);
    if (state.aliases[alias] === undefined) return null;
    if (alias === this.challengerAlias) await this.client.request('DELETE', this.path(model, '/canary'));
    const r = await this.client.request<{ move: AliasMove }>(
      'DELETE',
      this.path(model, `/aliases/${encodeURIComponent(alias)}`),
      { reason },
    );
    return r.move;
  }

  async setCanary(model: string, percent: number): Promise<void> {
    await this.client.request('PUT', this.path(model, '/canary'), { percent });
  }

  async state(model: string): Promise<ServedState> {
    return stateOf(await this.client.request<ModelState>('GET', this.path(model)));
  }
}
