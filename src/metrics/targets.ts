import { LabelKindGuard, uniqueSorted, type Label } from './labels.js';
import { checkNonEmpty, checkSameLength } from './validate.js';

export interface Targets {
  yTrue: readonly Label[];
  yPred: readonly Label[];
  guard: LabelKindGuard;
  /** Sorted union of the labels in y_true and y_pred (scikit-learn's unique_labels). */
  present: Label[];
  /** 'binary' when at most two labels occur, as scikit-learn's type_of_target. */
  type: 'binary' | 'multiclass';
}

/** The checks scikit-learn's _check_targets makes for single-label classification. */
export function checkTargets(fn: string, yTrue: readonly Label[], yPred: readonly Label[]): Targets {
  const guard = new LabelKindGuard(fn);
  guard.array('yTrue', yTrue);
  guard.array('yPred', yPred);
  checkSameLength(fn, ['yTrue', yTrue], ['yPred', yPred]);
  checkNonEmpty(fn, 'yTrue', yTrue);
  const present = uniqueSorted([...yTrue, ...yPred]);
  return { yTrue, yPred, guard, present, type: present.length <= 2 ? 'binary' : 'multiclass' };
}
