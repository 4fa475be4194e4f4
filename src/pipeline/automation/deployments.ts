/**
 * Deployments: monitored model servers (src/monitor/server.ts) that pipelines start on loopback and
 * keep running in this process, by name, after the step that started them — serving traffic,
 * watching it, and starting the retraining pipeline when an alert rule with `run:` fires (loop.ts).
 * A later `deploy` of the same name with the same settings reuses the server (a pipeline run again,
 * e.g. under `pipeline run --watch`); other settings restart it on the same port.
 *
 * They live as long as the process or until `closeDeployments()` (the CLI calls it when a pipeline
 * command ends, the main job when it is done): retrains in progress are interrupted and recorded so.
 */
import { ModelautoError } from '../../core/errors.js';
import type { MonitorConfigInput } from '../../monitor/live/config.js';
import { startMonitoredServer, type MonitoredServer } from '../../monitor/server.js';
import { openStores, type Stores } from '../../store/open.js';
import { InProcessControl, type DeploymentControl } from './control.js';
import { automationLog } from './events.js';
import { AutomationLoop } from './loop.js';

export interface DeploymentSettings {
  /** Name the deployment is found by (default in the deploy step: the model). */
  name: string;
  model: string;
  /** Store URI: the registry it serves from, where the monitor logs and the retrains are recorded. */
  store: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Monitor settings; `run:` pipeline paths must be absolute. */
  monitor?: MonitorConfigInput;
  dashboard?: boolean;
  /** Alert-triggered runs: executor concurrency and cooldown (ms). */
  automation?: { concurrency?: number; cooldownMs?: number };
  /** Recorded as the actor of alias moves made through the deployment. */
  actor?: string;
}

export interface Deployment {
  readonly name: string;
  readonly model: string;
  readonly url: string;
  readonly startedAt: number;
  readonly server: MonitoredServer;
  readonly stores: Stores;
  readonly loop: AutomationLoop;
  readonly control: DeploymentControl;
  readonly settings: DeploymentSettings;
}

const deployments = new Map<string, Deployment>();
const settingsKey = (s: DeploymentSettings): string => JSON.stringify({ ...s, port: s.port ?? 0 });

/** A deployment of this process by name, or undefined. */
export function getDeployment(name: string): Deployment | undefined {
  return deployments.get(name);
}

/** The deployment by name; NOT_FOUND naming the ones there are. */
export function requireDeployment(name: string): Deployment {
  const d = deployments.get(name);
  if (!d) {
    const known = [...deployments.keys()];
    throw new ModelautoError(
      'NOT_FOUND',
      `no deployment "${name}" in this process (${known.length ? `deployments: ${known.join(', ')}` : 'none is running'}); a deploy step starts one, or give the server's url`,
    );
  }
  return d;
}

export function listDeployments(): Deployment[] {
  return [...deployments.values()];
}

async function launch(settings: DeploymentSettings, port: number): Promise<Deployment> {
  const log = (line: string): void => automationLog(`[${settings.name}] ${line}`);
  const stores = await openStores(settings.store);
  const loop = new AutomationLoop({
    store: settings.store,
    log,
    ...(settings.automation?.concurrency ? { concurrency: settings.automation.concurrency } : {}),
    ...(settings.automation?.cooldownMs ? { cooldownMs: settings.automation.cooldownMs } : {}),
  });
  try {
    const server = await startMonitoredServer({
      stores,
      store: settings.store,
      models: [settings.model],
      host: settings.host ?? '127.0.0.1',
      port,
      pollIntervalMs: 1000,
      ...(settings.monitor ? { monitor: settings.monitor } : {}),
      dashboard: settings.dashboard ?? true,
      onFire: loop.onFire,
      log,
    });
    return {
      name: settings.name,
      model: settings.model,
      url: server.url,
      startedAt: Date.now(),
      server,
      stores,
      loop,
      control: new InProcessControl(
        server,
        stores,
        settings.actor ?? `modelauto deployment ${settings.name}`,
      ),
      settings,
    };
  } catch (e) {
    await loop.close();
    await stores.close();
    throw e;
  }
}

async function stop(d: Deployment): Promise<void> {
  deployments.delete(d.name);
  await d.loop.close();
  await d.server.close();
  await d.stores.close();
}

/**
 * Starts the deployment, or returns the running one of that name (`started: false`) once it answers
 * with the model's current `@champion`; different settings restart it on its port.
 */
export async function startDeployment(
  settings: DeploymentSettings,
): Promise<{ deployment: Deployment; started: boolean }> {
  const running = deployments.get(settings.name);
  if (running && settingsKey(running.settings) === settingsKey(settings)) {
    await running.server.manager.refresh(settings.model);
    return { deployment: running, started: false };
  }
  const port = settings.port ?? (running ? running.server.port : 0);
  if (running) await stop(running);
  const deployment = await launch(settings, port);
  deployments.set(settings.name, deployment);
  return { deployment, started: true };
}

export async function stopDeployment(name: string): Promise<void> {
  await stop(requireDeployment(name));
}

/** Stops every deployment of this process (interrupting retrains in progress). */
export async function closeDeployments(): Promise<void> {
  const all = [...deployments.values()];
  await Promise.all(all.map((d) => stop(d)));
}
