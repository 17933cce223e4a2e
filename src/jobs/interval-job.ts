import type { Logger } from 'pino';

/**
 * Runs `runOnce` every `intervalMs`, never two cycles at once (a slow cycle skips the next tick).
 * `stop()` waits for the cycle in progress. The timer is unref'd: it never keeps the process up.
 */
export function intervalJob<R>(
  runOnce: () => Promise<R>,
  options: { intervalMs: number; log: Logger; name: string; failed: R },
) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<R> | undefined;
  return {
    start(): void {
      if (timer) return;
      timer = setInterval(() => {
        if (running) return;
        running = runOnce()
          .catch((err) => {
            options.log.error({ err }, `${options.name} cycle failed`);
            return options.failed;
          })
          .finally(() => {
            running = undefined;
          });
      }, options.intervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
