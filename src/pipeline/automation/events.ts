/**
 * Where the automation's status lines go once the step that started a deployment has finished: the
 * alert-triggered runs, their steps, canary and promotion happen later, in the background. Listeners
 * (the main job's printer, a test) receive them; with none, they go to stderr like the alert engine's.
 */

export type AutomationListener = (line: string) => void;

const listeners = new Set<AutomationListener>();

/** Receives every automation status line; returns the unsubscribe function. */
export function onAutomationLog(listener: AutomationListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function automationLog(line: string): void {
  if (listeners.size === 0) {
    process.stderr.write(`${line}\n`);
    return;
  }
  for (const l of listeners) {
    try {
      l(line);
    } catch {
      // A failing printer must not stop the automation.
    }
  }
}
