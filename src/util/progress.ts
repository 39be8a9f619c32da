import * as cliProgress from 'cli-progress';

/** A progress bar with ETA, shared by every long job (decode, download, train). */
export interface Progress {
  /** Sets the bar to `value` of the total; `info` is free text after the bar. */
  update(value: number, info?: string): void;
  stop(): void;
}

export interface ProgressOptions {
  /** Set false to print nothing (tests, notebooks that draw their own line). */
  enabled?: boolean;
  /** Stream to draw on; stderr by default so stdout stays clean for tables/JSON. */
  stream?: NodeJS.WriteStream;
}

/**
 * Starts a bar for `total` units of work labelled `label`. Without a TTY
 * (CI, nbconvert) cli-progress prints a plain line every few seconds instead
 * of redrawing, so logs stay readable.
 */
export function startProgress(label: string, total: number, opts: ProgressOptions = {}): Progress {
  if (opts.enabled === false || total <= 0) {
    return { update() {}, stop() {} };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} {percentage}% | ETA {eta_formatted} | {info}`,
      stream: opts.stream ?? process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      etaBuffer: 20,
      hideCursor: false,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { info: '' });
  return {
    update(value, info = '') {
      bar.update(value, { info });
    },
    stop() {
      bar.stop();
    },
  };
}
