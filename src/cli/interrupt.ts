/**
 * Ctrl-C once: stop cleanly after the current batch (the run is recorded as interrupted).
 * Ctrl-C twice: quit at once.
 */
export async function withInterrupt<T>(job: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) {
      process.stderr.write('\nsecond interrupt: quitting now\n');
      process.exit(130);
    }
    process.stderr.write('\ninterrupt: stopping after the current batch (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    return await job(controller.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
