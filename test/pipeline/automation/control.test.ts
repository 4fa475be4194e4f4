/**
 * Promotion controls against a real server: in this process (registry move with the pipeline as the
 * actor, then the server follows) and through the admin API (another process's server) — the canary
 * share splits traffic between the two versions exactly, removing the challenger sends everything
 * back to the champion, and every move is in the alias history with its reason. Plus the errors a
 * pipeline author sees for lifecycle steps written wrong.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ServerClient } from '../../../src/pipeline/automation/client.js';
import {
  AdminApiControl,
  InProcessControl,
  type DeploymentControl,
} from '../../../src/pipeline/automation/control.js';
import { requireDeployment } from '../../../src/pipeline/automation/deployments.js';
import { mnistTestDigits } from '../../../src/pipeline/automation/digits.js';
import { sendTraffic } from '../../../src/pipeline/automation/traffic.js';
import { validatePipeline } from '../../../src/pipeline/flow/api.js';
import { fixtureStore, registerMnist, TEST_TOKEN, testServer } from '../../serve/fixtures.js';

const f = await fixtureStore();
await registerMnist(f, 1, { aliases: ['champion'] });
await registerMnist(f, 2);
const server = await testServer(f);
const digits = await mnistTestDigits(0, 20);

async function answeredBy(): Promise<Record<string, number>> {
  const r = await sendTraffic(new ServerClient(server.url), {
    model: 'mnist',
    images: digits,
    batch: 1,
    feedback: false,
  });
  return Object.fromEntries(Object.entries(r.versions).map(([v, t]) => [v, t.rows]));
}

async function canaryRoundTrip(control: DeploymentControl, actor: string): Promise<void> {
  const move = await control.setAlias('mnist', control.challengerAlias, 2, 'canary for the test');
  expect(move).toMatchObject({ alias: 'challenger', toVersion: 2, actor, reason: 'canary for the test' });
  await control.setCanary('mnist', 50);
  expect(await control.state('mnist')).toMatchObject({ answering: 1, challenger: 2, canaryPercent: 50 });
  // An exact split (error diffusion): 10 of 20 single-row requests each.
  expect(await answeredBy()).toEqual({ '1': 10, '2': 10 });
  const removed = await control.deleteAlias('mnist', control.challengerAlias, 'canary over');
  expect(removed).toMatchObject({
    alias: 'challenger',
    action: 'delete',
    fromVersion: 2,
    reason: 'canary over',
  });
  expect(await control.deleteAlias('mnist', control.challengerAlias, 'again')).toBeNull();
  expect(await control.state('mnist')).toMatchObject({ answering: 1, challenger: null, canaryPercent: 0 });
  expect(await answeredBy()).toEqual({ '1': 20 });
}

describe('promotion controls', () => {
  it('in this process: the registry move names the actor, the server follows at once', async () => {
    await canaryRoundTrip(
      new InProcessControl(server, f.stores, 'pipeline run abcd1234'),
      'pipeline run abcd1234',
    );
  });

  it('through the admin API', async () => {
    const control = new AdminApiControl(server.url, TEST_TOKEN);
    await canaryRoundTrip(control, 'modelauto serve (admin API)');
    await control.setAlias('mnist', 'champion', 2, 'promoted by the test');
    expect(await answeredBy()).toEqual({ '2': 20 });
    const history = await f.stores.registry.aliasHistory('mnist', 'champion');
    expect(history.at(-1)).toMatchObject({ fromVersion: 1, toVersion: 2, reason: 'promoted by the test' });
    await expect(new AdminApiControl(server.url, 'wrong-token-0123456789').state('mnist')).rejects.toThrow(
      /401 the admin token is not valid/,
    );
  });
});

describe('lifecycle steps written wrong', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelauto-steps-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('names the file and line of a deploy whose alert runs a pipeline that does not load', () => {
    const p = file(
      'deploy.yaml',
      `name: bad-deploy
steps:
  deploy:
    uses: deploy
    with:
      model: mnist
      monitor:
        alerts:
          rules:
            - { name: d, metric: drift_share, op: '>', threshold: 0.3, run: { pipeline: missing.yaml } }
`,
    );
    expect(() => validatePipeline(p)).toThrow(
      /deploy\.yaml:\d+: steps\.deploy\.with: cannot read pipeline .*missing\.yaml: ENOENT/,
    );
    file('broken.yaml', 'name: broken\nsteps:\n  a: { uses: nope }\n');
    const q = file(
      'deploy2.yaml',
      `name: bad-deploy
steps:
  deploy:
    uses: deploy
    with:
      model: mnist
      monitor: { alerts: { rules: [{ name: d, metric: drift_share, op: '>', threshold: 2, run: { pipeline: broken.yaml } }] } }
`,
    );
    expect(() => validatePipeline(q)).toThrow(/monitor: .*threshold: drift_share is in \[0, 1\]/);
  });

  it('checks traffic, promote and await-retrain inputs before anything runs', () => {
    const p = file(
      'steps.yaml',
      `name: bad-steps
steps:
  traffic:
    uses: traffic
    with: { model: mnist }
  shifted:
    uses: traffic
    with: { model: mnist, deployment: mnist, shift: blur }
  promote:
    uses: promote
    with: { model: mnist, version: 2, stage: canary, check: { since: 0 } }
  wait:
    uses: await-retrain
    with: { deployment: Not_A_Name }
`,
    );
    let message = '';
    try {
      validatePipeline(p);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/steps\.traffic\.with: expected one of deployment or url/);
    expect(message).toMatch(/steps\.shifted\.with\.shift: expected one of "none", "invert", "rotate"/);
    expect(message).toMatch(/steps\.promote\.with\.check: only the champion stage checks the canary/);
    expect(message).toMatch(/steps\.wait\.with\.deployment: expected a name of lowercase letters/);
  });

  it('says which deployments there are when a step names another', () => {
    expect(() => requireDeployment('nope')).toThrow(
      /no deployment "nope" in this process \(none is running\)/,
    );
  });
});
