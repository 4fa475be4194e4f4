/**
 * Ordering steps by their dependencies. Kahn's algorithm, ties broken by the order the steps are
 * written in, so that the order (and `pipeline status`) is stable; a cycle is reported by naming it.
 */

export type Cycle = string[];

export interface TopoResult {
  order: string[];
  /** One cycle, as `a → b → a` would read (first element repeated at the end), when there is one. */
  cycle?: Cycle;
}

/** `deps.get(x)` lists what x needs. Every id in deps' values must be a key. */
export function topoSort(ids: readonly string[], deps: ReadonlyMap<string, readonly string[]>): TopoResult {
  const remaining = new Map(ids.map((id) => [id, new Set(deps.get(id) ?? [])]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = ids.find((id) => remaining.get(id)?.size === 0);
    if (ready === undefined) return { order, cycle: findCycle(remaining) };
    order.push(ready);
    remaining.delete(ready);
    for (const needs of remaining.values()) needs.delete(ready);
  }
  return { order };
}

/** Every node left has an unmet dependency, so walking dependencies from any of them must loop. */
function findCycle(remaining: Map<string, Set<string>>): Cycle {
  const [start] = remaining.keys();
  const path: string[] = [];
  const seen = new Map<string, number>();
  let cur = start as string;
  while (!seen.has(cur)) {
    seen.set(cur, path.length);
    path.push(cur);
    const next = [...(remaining.get(cur) ?? [])][0];
    if (next === undefined) break;
    cur = next;
  }
  const from = seen.get(cur) ?? 0;
  // Dependencies point backwards in time: reverse so the cycle reads in running order (a needs b → b first).
  const loop = path.slice(from).reverse();
  return [...loop, loop[0] as string];
}

/** Every step that (transitively) needs `id`. */
export function dependents(id: string, deps: ReadonlyMap<string, readonly string[]>): Set<string> {
  const out = new Set<string>();
  let frontier = [id];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const [step, needs] of deps) {
      if (!out.has(step) && needs.some((n) => frontier.includes(n))) {
        out.add(step);
        next.push(step);
      }
    }
    frontier = next;
  }
  return out;
}
