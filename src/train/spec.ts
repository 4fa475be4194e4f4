import { z } from 'zod';
import { BACKENDS } from '../engine/backend.js';
import { CheckpointSpecSchema } from './checkpoint.js';
import { EarlyStoppingSpecSchema } from './early-stopping.js';
import { OptimizerFieldSchema } from './optimizers.js';
import { LrScheduleSchema } from './schedules.js';
import { LOSSES, TRAIN_METRICS } from './trainer.js';

const POSITIVE_INT = 'expected positive integer';
const positiveInt = z
  .number({ error: POSITIVE_INT })
  .int({ error: POSITIVE_INT })
  .positive({ error: POSITIVE_INT });

export const TensorBoardSpecSchema = z.preprocess(
  (v) => (v === true ? {} : v),
  z.strictObject({
    /** Defaults to the run's own folder in the store. */
    logdir: z.string().min(1).optional(),
    updateFreq: z.enum(['epoch', 'batch']).default('epoch'),
  }),
);

/** The `train:` section of an experiment spec. Defaults follow Keras where Keras has one. */
export const TrainSpecSchema = z.strictObject({
  epochs: positiveInt.default(10),
  batchSize: positiveInt.default(32),
  shuffle: z.boolean().default(true),
  seed: z.number().int().nonnegative().default(42),
  optimizer: OptimizerFieldSchema.default({
    type: 'adam',
    learningRate: 0.001,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
  }),
  /** Defaults from the task: categoricalCrossentropy for classification, meanSquaredError for regression. */
  loss: z.enum(LOSSES).optional(),
  /** Defaults from the task: accuracy for classification, mae for regression. */
  metrics: z.array(z.enum(TRAIN_METRICS)).optional(),
  lrSchedule: LrScheduleSchema.optional(),
  earlyStopping: EarlyStoppingSpecSchema.optional(),
  checkpoint: CheckpointSpecSchema.optional(),
  tensorboard: TensorBoardSpecSchema.optional(),
  backend: z.enum(BACKENDS).optional(),
});

export type TrainSpec = z.infer<typeof TrainSpecSchema>;
export type TrainSpecInput = z.input<typeof TrainSpecSchema>;
