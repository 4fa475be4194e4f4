#!/usr/bin/env node
// Builds the optional native kernels (native/ -> native/build/Release/modelauto_native.node).
// Runs from `npm install`/`npm ci`. A failed build is not an error: modelauto then runs on the
// pure-JS tfjs kernels and `modelauto doctor` explains why, so this script always exits 0
// unless --strict is given (CI jobs that must have the addon use it).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const strict = process.argv.includes('--strict');
const verbose = process.argv.includes('--verbose') || process.env.MODELAUTO_NATIVE_VERBOSE === '1';

function fail(reason) {
  const msg = `modelauto: native kernels not built (${reason}); using the JS kernels instead.`;
  if (strict) {
    console.error(msg);
    process.exit(1);
  }
  console.warn(`warning: ${msg}`);
  process.exit(0);
}

if (process.env.MODELAUTO_SKIP_NATIVE === '1') fail('MODELAUTO_SKIP_NATIVE=1');
if (!existsSync(join(nativeDir, 'binding.gyp'))) fail('native/binding.gyp is missing');

// npm exports the path of its bundled node-gyp to lifecycle scripts; outside npm, look for the
// copy that ships with npm next to this node binary.
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => typeof c === 'string' && c.length > 0 && existsSync(c));
}

const nodeGyp = findNodeGyp();
if (nodeGyp === undefined) fail('node-gyp not found (it ships with npm)');

// Headers: npm passes its `nodedir` setting through the environment; run by hand, use the
// headers installed next to this node binary so node-gyp never needs to download them.
const args = [nodeGyp, 'rebuild', '--release', `--jobs=${process.env.MODELAUTO_NATIVE_JOBS ?? '2'}`];
if (!process.env.npm_config_nodedir) {
  const prefix = resolve(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
}
const result = spawnSync(process.execPath, args, {
  cwd: nativeDir,
  stdio: verbose ? 'inherit' : 'pipe',
  encoding: 'utf8',
  env: process.env,
});
if (result.error) fail(`could not run node-gyp: ${result.error.message}`);
if (result.status !== 0) {
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  const lines = output.split('\n');
  const firstError =
    lines.find((line) => /\berror:/i.test(line)) ??
    lines.find((line) => /ERR!/.test(line)) ??
    `exit code ${result.status}`;
  if (!verbose && output.length > 0) console.warn(output.split('\n').slice(-30).join('\n'));
  fail(`node-gyp failed: ${firstError.trim()}`);
}
const built = join(nativeDir, 'build', 'Release', 'modelauto_native.node');
if (!existsSync(built)) fail(`node-gyp succeeded but ${built} is missing`);
console.log(`modelauto: native kernels built (${built})`);
