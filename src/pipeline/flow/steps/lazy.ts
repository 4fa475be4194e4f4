/**
 * The deployments module (monitored servers: the serve, monitor and dashboard layers) loaded on first
 * use. The lifecycle steps that need it run in the coordinator; every process that runs pipeline tasks
 * imports the step types, and those processes should not pay for loading a server they never start.
 */
type DeploymentsModule = typeof import('../../automation/deployments.js');

let loaded: Promise<DeploymentsModule> | undefined;

export function deploymentsModule(): Promise<DeploymentsModule> {
  loaded ??= import('../../automation/deployments.js');
  return loaded;
}
