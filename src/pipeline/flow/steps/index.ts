/**
 * The step types a pipeline can use. Adding one is a file exporting a StepDefinition and a line here
 * (or registerStepType from code, for steps that live elsewhere).
 */
import { ModelautoError } from '../../../core/errors.js';
import { awaitRetrainStep } from './await-retrain.js';
import { dataStep } from './data.js';
import { deployStep } from './deploy.js';
import { evaluateStep } from './evaluate.js';
import { exportStep } from './export.js';
import { feedbackDataStep } from './feedback-data.js';
import { gateStep } from './gate.js';
import { optimizeStep } from './optimize.js';
import { promoteStep } from './promote.js';
import { registerStep } from './register.js';
import { retrainStep } from './retrain.js';
import { searchStep } from './search.js';
import { trainStep } from './train.js';
import { trafficStep } from './traffic.js';
import type { AnyStepDefinition } from './types.js';

const definitions = new Map<string, AnyStepDefinition>(
  [dataStep, trainStep, evaluateStep, optimizeStep, exportStep, gateStep, registerStep, searchStep]
    // The lifecycle: serve, send traffic, retrain on alerts, promote (src/pipeline/automation).
    .concat([deployStep, trafficStep, feedbackDataStep, retrainStep, promoteStep, awaitRetrainStep])
    .map((d) => [d.uses, d]),
);

/** Adds (or replaces) a step type; every process that runs pipeline tasks must register it too. */
export function registerStepType(definition: AnyStepDefinition): void {
  if (!/^[a-z][a-z0-9_-]{0,63}$/.test(definition.uses)) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `step type "${definition.uses}": expected lowercase letters, digits, _ -`,
    );
  }
  definitions.set(definition.uses, definition);
}

export function getStepDefinition(uses: string): AnyStepDefinition | undefined {
  return definitions.get(uses);
}

export function requireStepDefinition(uses: string): AnyStepDefinition {
  const def = definitions.get(uses);
  if (!def) {
    throw new ModelautoError('INVALID_SPEC', `unknown step type "${uses}"; known: ${stepTypes().join(', ')}`);
  }
  return def;
}

export function stepTypes(): string[] {
  return [...definitions.keys()].sort();
}
