/** Resolves once SIGINT or SIGTERM arrives; a second signal while shutting down quits at once. */
export function untilSignal(): { signal: Promise<string>; dispose: () => void } {
  let handler: ((signal: string) => void) | undefined;
  const quit = () => process.exit(130);
  const signal = new Promise<string>((resolve) => {
    handler = (name: string) => {
      process.off('SIGINT', handler as (s: string) => void);
      process.off('SIGTERM', handler as (s: string) => void);
      process.once('SIGINT', quit);
      resolve(name);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
  return {
    signal,
    dispose: () => {
      process.off('SIGINT', handler as (s: string) => void);
      process.off('SIGTERM', handler as (s: string) => void);
      process.off('SIGINT', quit);
    },
  };
}
