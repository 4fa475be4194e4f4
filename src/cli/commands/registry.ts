import type { Command } from 'commander';
import { MODEL_VERSION_STATUSES } from '../../store/registry.js';
import {
  deleteRegistryAlias,
  listModelVersions,
  listRegisteredModels,
  parseTagAssignments,
  registerModelFromRun,
  registryAliasHistory,
  rollbackRegistryAlias,
  setRegisteredStatus,
  setRegistryAlias,
  showRegistered,
  tagRegistered,
} from '../../store/registry-api.js';
import { globals, oneOf, output, positiveInt, usage } from '../context.js';
import {
  formatAliasChange,
  formatAliasHistory,
  formatAliasMove,
  formatModelList,
  formatRegistered,
  formatRegistryEntry,
  formatVersionDetails,
  formatVersionList,
} from './registry-format.js';

const REF = 'model (latest ready version), model:version or model@alias';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerRegistry(program: Command): void {
  const registry = program
    .command('registry')
    .description('registered models: immutable versions, aliases that move, and the history of every move');

  registry
    .command('register')
    .description('register a finished run as the next version of a model (created on first use)')
    .argument('<run>', 'run id or a unique prefix of at least 4 characters')
    .requiredOption('--name <model>', 'model name: lowercase letters, digits, "_", "." or "-"')
    .option('--alias <alias>', 'point this alias at the new version (repeatable)', collect, [])
    .option('--tag <key=value>', 'version tag (repeatable)', collect, [])
    .option('--description <text>', 'version description')
    .option('--reason <text>', 'recorded with the alias moves')
    .action(async (ref: string, opts, cmd: Command) => {
      const version = await registerModelFromRun(ref, opts.name, {
        store: globals(cmd).store,
        aliases: opts.alias,
        tags: parseTagAssignments(opts.tag, '--tag'),
        ...(opts.description ? { description: opts.description } : {}),
        ...(opts.reason ? { reason: opts.reason } : {}),
      });
      output(cmd, version, () => formatRegistered(version));
    });

  registry
    .command('list')
    .description("list models, or one model's versions (newest first)")
    .argument('[model]', 'list the versions of this model')
    .option(
      '--status <status>',
      `only versions with this status: ${MODEL_VERSION_STATUSES.join(', ')}`,
      oneOf('--status', MODEL_VERSION_STATUSES),
    )
    .action(async (model: string | undefined, opts, cmd: Command) => {
      const store = globals(cmd).store;
      if (model === undefined) {
        if (opts.status)
          throw usage('registry list: --status needs a model (registry list <model> --status ...)');
        const models = await listRegisteredModels({ store });
        output(cmd, models, () => formatModelList(models));
        return;
      }
      const versions = await listModelVersions(model, {
        store,
        ...(opts.status ? { status: opts.status } : {}),
      });
      output(cmd, versions, () => formatVersionList(versions));
    });

  registry
    .command('show')
    .description('show a model with its versions, or one version')
    .argument('<ref>', 'model (the model and its versions), model:version or model@alias')
    .action(async (ref: string, _opts, cmd: Command) => {
      const entry = await showRegistered(ref, { store: globals(cmd).store });
      output(cmd, entry, () => formatRegistryEntry(entry));
    });

  registry
    .command('alias')
    .description('point an alias at a version (recorded in the history), or delete it with --delete')
    .argument('<model>', 'model name')
    .argument('<alias>', 'alias, e.g. champion')
    .argument('[version]', 'version number', positiveInt('version'))
    .option('--reason <text>', 'why, kept in the history')
    .option('--delete', 'remove the alias instead')
    .action(async (model: string, alias: string, version: number | undefined, opts, cmd: Command) => {
      const common = { store: globals(cmd).store, ...(opts.reason ? { reason: opts.reason } : {}) };
      if (opts.delete) {
        if (version !== undefined) throw usage('registry alias: give either a version or --delete, not both');
        const move = await deleteRegistryAlias(model, alias, common);
        output(cmd, move, () => formatAliasMove(move));
        return;
      }
      if (version === undefined) throw usage('registry alias: missing the version (or --delete)');
      const change = await setRegistryAlias(model, alias, version, common);
      output(cmd, change, () => formatAliasChange(change));
    });

  registry
    .command('tag')
    .description('set tags on a model, or on a version (model:version or model@alias)')
    .argument('<ref>', "model (the model's tags), model:version or model@alias (that version's tags)")
    .argument('<tags...>', 'key=value pairs')
    .action(async (ref: string, tags: string[], _opts, cmd: Command) => {
      const entry = await tagRegistered(ref, parseTagAssignments(tags), { store: globals(cmd).store });
      output(cmd, entry, () => formatRegistryEntry(entry));
    });

  registry
    .command('status')
    .description(`set a version's status: ${MODEL_VERSION_STATUSES.join(', ')}`)
    .argument('<ref>', REF)
    .argument('<status>', MODEL_VERSION_STATUSES.join(' | '), oneOf('status', MODEL_VERSION_STATUSES))
    .action(async (ref: string, status: (typeof MODEL_VERSION_STATUSES)[number], _opts, cmd: Command) => {
      const version = await setRegisteredStatus(ref, status, { store: globals(cmd).store });
      output(cmd, version, () => formatVersionDetails(version));
    });

  registry
    .command('history')
    .description("every move of a model's aliases, oldest first: who, when, from which version, why")
    .argument('<model>', 'model name')
    .option('--alias <alias>', 'only this alias')
    .action(async (model: string, opts, cmd: Command) => {
      const moves = await registryAliasHistory(model, {
        store: globals(cmd).store,
        ...(opts.alias ? { alias: opts.alias } : {}),
      });
      output(cmd, moves, () => formatAliasHistory(moves));
    });

  registry
    .command('rollback')
    .description('move an alias back to where it was before its latest move (recorded as a move too)')
    .argument('<model>', 'model name')
    .argument('<alias>', 'alias, e.g. champion')
    .option('--reason <text>', 'why, kept in the history')
    .action(async (model: string, alias: string, opts, cmd: Command) => {
      const move = await rollbackRegistryAlias(model, alias, {
        store: globals(cmd).store,
        ...(opts.reason ? { reason: opts.reason } : {}),
      });
      output(cmd, move, () => formatAliasMove(move));
    });
}
