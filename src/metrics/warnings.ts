/** Receives scikit-learn's UndefinedMetricWarning-style messages instead of process warnings. */
export type WarningHandler = (message: string) => void;

export function emitMetricWarning(handler: WarningHandler | undefined, message: string): void {
  if (handler) handler(message);
  else process.emitWarning(message, { type: 'UndefinedMetricWarning', code: 'MODELAUTO_METRIC' });
}
