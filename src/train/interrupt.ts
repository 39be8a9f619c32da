import type { StopFlag } from './loop';

/**
 * Ctrl-C in a terminal, or Kernel → Interrupt in Jupyter (both a SIGINT):
 * the first asks the training loop to checkpoint after this batch and stop
 * (`onFirst` says so); a second one calls `onSecond`, when given. `release`
 * removes the handler once training returns.
 */
export function stopOnInterrupt(onFirst: () => void, onSecond?: () => void): { stop: StopFlag; release: () => void } {
  const stop: StopFlag = { stop: false };
  const handler = () => {
    if (stop.stop && onSecond) return onSecond();
    stop.stop = true;
    onFirst();
  };
  process.on('SIGINT', handler);
  return {
    stop,
    release: () => {
      process.off('SIGINT', handler);
    },
  };
}
