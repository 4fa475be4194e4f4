/**
 * Which move a rollback undoes. Rollbacks form a stack over the alias's history: the target is the
 * latest move that is neither a rollback nor already undone by one, so repeated rollbacks walk back
 * through the history (v3 → v2 → v1) instead of toggling between the last two versions.
 */
import type { AliasMove } from './registry.js';

/** `history` oldest first; undefined when every move has been undone (or there is none). */
export function moveToUndo(history: readonly AliasMove[]): AliasMove | undefined {
  const undone = new Set<number>();
  for (let i = history.length - 1; i >= 0; i--) {
    const move = history[i] as AliasMove;
    if (move.action === 'rollback') {
      if (move.undoes !== null) undone.add(move.undoes);
      continue;
    }
    if (!undone.has(move.id)) return move;
  }
  return undefined;
}
