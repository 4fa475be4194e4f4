import type * as tf from '@tensorflow/tfjs';
import { existsSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ModelautoError } from '../../core/errors.js';
import { buildModel } from '../../model/build.js';
import { loadModel } from '../../model/io.js';
import { loadBundle } from '../bundle.js';
import type { JsonValue } from '../../store/types.js';
import type { Callback, Logs } from '../../train/callbacks.js';
import { fit, type FitResult } from '../../train/trainer.js';
import { checkDistillable, distill } from '../../optimize/distill.js';
import {
  PruningCallback,
  pruningTargets,
  parseMagnitudePruning,
  type MagnitudePruning,
} from '../../optimize/prune.js';
import { WeightFakeQuant, withActivationFakeQuant, withoutFakeQuant } from '../../optimize/qat.js';
import { quantizableLayers } from '../../optimize/quantize.js';
import { chooseQuantization } from '../../optimize/sensitivity.js';
import { captureModel, encodeModelFiles, loadModelFiles } from '../../optimize/serialize.js';
import { structuredCandidates, structuredPrune } from '../../optimize/structured.js';
import { narrowedStudent } from '../../optimize/student.js';
import { checkLayerNames } from '../../optimize/weights.js';
import type { BuildContext, CandidateOutput, CandidateSpec, Technique } from './candidate.js';
import { planKey, type CandidatePlan } from './plan.js';
import { oneHot, scoreModel, type Source } from './source.js';

export interface PreparedCandidate {
  spec: CandidateSpec;
  build: (ctx: BuildContext) => Promise<CandidateOutput>;
  /** Releases models prepared ahead (teacher, student) when the candidate is not run. */
  dispose: () => void;
}

/** A copy of a model through tfjs's own serialization (works for any layers model). */
export async function cloneModel(model: tf.LayersModel): Promise<tf.LayersModel> {
  return loadModelFiles(encodeModelFiles(await captureModel(model)), 'model copy');
}

async function loadTeacher(
  source: Source,
  ref: string | undefined,
): Promise<{ model: tf.LayersModel; owned: boolean; name: string }> {
  if (!ref) return { model: source.bundle.model, owned: false, name: `run ${source.run.id}` };
  if (existsSync(ref)) {
    const dir = statSync(ref).isDirectory() ? ref : dirname(ref);
    if (!statSync(ref).isDirectory() && basename(ref) !== 'model.json') {
      throw new ModelautoError('USAGE', `distill.teacher: ${ref}: expected a model folder or its model.json`);
    }
    return { model: await loadModel(dir), owned: true, name: ref };
  }
  const id = await source.store.resolveRunId(ref);
  return { model: (await loadBundle(source.store, id)).model, owned: true, name: `run ${id}` };
}

/** Pruning options for the callback: the plan's schedule ends with fine-tuning. */
function pruningOptions(plan: NonNullable<CandidatePlan['prune']>, totalSteps: number): MagnitudePruning {
  const endStep = Math.max(plan.beginStep, totalSteps - 1);
  return parseMagnitudePruning({
    schedule:
      plan.initialSparsity !== undefined
        ? {
            type: 'polynomialDecay',
            initialSparsity: plan.initialSparsity,
            finalSparsity: plan.sparsity,
            beginStep: plan.beginStep,
            endStep,
            power: plan.power,
            frequency: plan.frequency,
          }
        : {
            type: 'constantSparsity',
            targetSparsity: plan.sparsity,
            beginStep: plan.beginStep,
            frequency: plan.frequency,
          },
    scope: plan.scope,
    skip: plan.skip,
    ...(plan.mByN ? { mByN: plan.mByN } : {}),
  });
}

function techniquesOf(plan: CandidatePlan): Technique[] {
  const t: Technique[] = [];
  if (plan.distill) t.push('distill');
  if (plan.structured) t.push('structured');
  if (plan.prune) t.push('prune');
  if (plan.quantize) t.push(plan.quantize.qatEpochs > 0 ? 'qat' : 'quantize');
  return t;
}

/**
 * Validates a plan against the source model (layer names, prunable layers, teacher/student shapes)
 * and returns the candidate's build step. Nothing is trained and no run is created here, so a bad
 * plan fails before any work.
 */
export async function prepareCandidate(source: Source, plan: CandidatePlan): Promise<PreparedCandidate> {
  const key = planKey(plan);
  const train = source.bundle.spec.train;
  const lr = plan.learningRate ?? train.optimizer.learningRate;
  const optimizer = { ...train.optimizer, learningRate: lr };
  const classification = source.splits.train.target.kind === 'classification';
  const steps = (epochs: number) => Math.ceil(source.train.n / train.batchSize) * epochs;

  // The architecture each step sees, checked now.
  let teacher: { model: tf.LayersModel; owned: boolean; name: string } | undefined;
  let student: tf.LayersModel | undefined;
  const disposeAll = (): void => {
    if (teacher?.owned) teacher.model.dispose();
    student?.dispose();
  };
  try {
    if (plan.distill) {
      teacher = await loadTeacher(source, plan.distill.teacher);
      student = plan.distill.student
        ? buildModel(plan.distill.student, { inputShape: source.bundle.preprocessor.inputShape })
        : await narrowedStudent(teacher.model, plan.distill.width ?? 0.5, plan.distill.seed);
      checkDistillable(teacher.model, student);
      if (!classification)
        throw new ModelautoError('INVALID_ARGUMENT', 'distill: needs a classification run');
    }
    const shape = student ?? source.bundle.model;
    if (plan.structured) {
      checkLayerNames(
        shape,
        [...plan.structured.skip, ...Object.keys(plan.structured.layers)],
        'structured.layers/skip',
      );
      const blocked = new Map(structuredCandidates(shape).map((c) => [c.layer, c.blocked]));
      for (const name of Object.keys(plan.structured.layers)) {
        if (!blocked.has(name) || blocked.get(name)) {
          throw new ModelautoError(
            'INVALID_ARGUMENT',
            `structured.layers: layer "${name}" cannot lose units: ${blocked.get(name) ?? 'it is not a dense or conv layer'}`,
          );
        }
      }
    }
    if (plan.prune) pruningTargets(shape, pruningOptions(plan.prune, steps(plan.prune.epochs)), 'prune');
    if (plan.quantize) {
      const known = new Set(quantizableLayers(await captureModel(shape)));
      const unknown = Object.keys(plan.quantize.layers).filter((l) => !known.has(l));
      if (unknown.length > 0) {
        throw new ModelautoError(
          'INVALID_ARGUMENT',
          `quantize.layers: unknown layer ${unknown.map((n) => `"${n}"`).join(', ')}; layers with float weights: ${[...known].join(', ')}`,
        );
      }
    }
  } catch (e) {
    disposeAll();
    throw e;
  }

  const spec: CandidateSpec = {
    key,
    techniques: techniquesOf(plan),
    params: {
      plan: JSON.parse(JSON.stringify(plan)) as JsonValue,
      ...(teacher ? { teacher: teacher.name } : {}),
    },
  };

  const build = async (ctx: BuildContext): Promise<CandidateOutput> => {
    const history: Logs[] = [];
    const metrics: Record<string, number> = {};
    const notes: string[] = [];
    const artifacts: { name: string; data: string }[] = [];
    const modelSpec = plan.distill?.student && !plan.structured ? { modelSpec: plan.distill.student } : {};
    const interrupted = (r: FitResult): boolean => {
      history.push(...r.history);
      return r.status === 'interrupted';
    };
    const fineTune = async (model: tf.LayersModel, epochs: number, first: Callback[]): Promise<FitResult> =>
      fit(model, source.train, {
        epochs,
        batchSize: train.batchSize,
        seed: train.seed,
        optimizer,
        loss: source.loss,
        metrics: classification ? ['accuracy'] : ['mae'],
        ...(train.lrSchedule ? { lrSchedule: train.lrSchedule } : {}),
        validation: source.validation,
        callbacks: [...first, ...ctx.callbacks()],
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });

    let model: tf.LayersModel;
    if (plan.distill && teacher && student) {
      const d = plan.distill;
      ctx.log(
        `distilling from ${teacher.name} (T ${d.temperature}, alpha ${d.alpha}): student ${student.countParams()} parameters`,
      );
      const r = await distill(teacher.model, student, oneHot(source.train, source.splits.train), {
        epochs: d.epochs ?? train.epochs,
        batchSize: train.batchSize,
        optimizer,
        temperature: d.temperature,
        alpha: d.alpha,
        seed: train.seed,
        ...(train.lrSchedule ? { lrSchedule: train.lrSchedule } : {}),
        validation: oneHot(source.validation, source.splits.validation),
        callbacks: ctx.callbacks(),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      if (teacher.owned) teacher.model.dispose();
      model = student;
      if (interrupted(r)) return { model, history, interrupted: true };
    } else {
      model = await cloneModel(source.bundle.model);
    }

    if (plan.structured) {
      const s = plan.structured;
      const r = await structuredPrune(
        model,
        { ratio: s.ratio, layers: s.layers, skip: s.skip, criterion: s.criterion },
        source.train,
      );
      model.dispose();
      model = r.model;
      ctx.log(
        `structured: ${r.layers.map((l) => `${l.layer} ${l.before}→${l.after}`).join(', ')}; parameters ${r.paramsBefore} → ${r.paramsAfter}`,
      );
      r.layers.forEach((l) => (metrics[`units_${l.layer}`] = l.after));
      if (s.epochs > 0 && interrupted(await fineTune(model, s.epochs, [])))
        return { model, history, interrupted: true };
    }

    if (plan.prune) {
      const p = plan.prune;
      const pruning = new PruningCallback(model, pruningOptions(p, steps(p.epochs)));
      if (p.epochs > 0) {
        ctx.log(
          `pruning to ${p.sparsity}${p.initialSparsity !== undefined ? ` from ${p.initialSparsity} (PolynomialDecay)` : ''} over ${p.epochs} epoch(s)`,
        );
        if (interrupted(await fineTune(model, p.epochs, [pruning])))
          return { model, history, interrupted: true };
      } else {
        pruning.updateMasks(p.beginStep);
      }
      for (const l of pruning.strip()) metrics[`sparsity_${l.layer}`] = l.sparsity;
    }

    if (plan.quantize) {
      const q = plan.quantize;
      if (q.qatEpochs > 0) {
        const scheme = q.dtype === 'int8' ? 'int8' : q.dtype === 'float16' ? undefined : q.dtype;
        if (!scheme) {
          notes.push('float16 needs no quantization-aware training; qatEpochs ignored');
        } else {
          let trained = model;
          if (q.dtype === 'int8' && q.activations) trained = await withActivationFakeQuant(model);
          const qat = new WeightFakeQuant(trained, {
            scheme,
            keepZeros: Boolean(plan.prune),
            reduceRange: q.reduceRange,
          });
          ctx.log(`quantization-aware training (${scheme}) for ${q.qatEpochs} epoch(s)`);
          const r = await fineTune(trained, q.qatEpochs, [qat]);
          if (trained !== model) {
            const stripped = await withoutFakeQuant(trained);
            trained.dispose();
            model.dispose();
            model = stripped.model;
            artifacts.push({
              name: 'qat-ranges.json',
              data: JSON.stringify(stripped.ranges, null, 2) + '\n',
            });
          }
          if (interrupted(r)) return { model, history, interrupted: true };
        }
      }
      if (q.dtype === 'int8') return { model, history, metrics, notes, artifacts, ...modelSpec };
      const captured = await captureModel(model);
      const chosen = await chooseQuantization(
        captured,
        (m) => scoreModel(m, source.validation, source.splits.validation),
        {
          dtype: q.dtype,
          maxDrop: q.maxDrop,
          fixed: q.layers,
          baseline: await scoreModel(model, source.validation, source.splits.validation),
          log: ctx.log,
        },
      );
      const kept = chosen.layers.filter((l) => l.dtype !== q.dtype).map((l) => `${l.layer}: ${l.dtype}`);
      if (kept.length > 0)
        notes.push(`kept at higher precision by the sensitivity check: ${kept.join(', ')}`);
      metrics['quantization_drop'] = chosen.drop;
      return {
        model,
        files: chosen.files,
        history,
        metrics,
        notes,
        artifacts: [
          ...artifacts,
          {
            name: 'quantization.json',
            data: JSON.stringify({ plan: chosen.plan, layers: chosen.layers }, null, 2) + '\n',
          },
        ],
        ...modelSpec,
      };
    }
    return { model, history, metrics, notes, artifacts, ...modelSpec };
  };
  return { spec, build, dispose: disposeAll };
}
