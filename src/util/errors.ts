/**
 * Typed errors. Each message says what was received, what was expected and
 * the fix, so a user never has to read a stack trace (style.md "Errors").
 */
export class FcnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bad value in a config, a CLI flag or a notebook literal. */
export class ConfigError extends FcnError {}

/** A dataset file or folder that cannot be used. */
export class DataError extends FcnError {}

/** A backend that cannot be loaded or cannot do what was asked. */
export class BackendError extends FcnError {}

/** A run folder, checkpoint or weight file that is missing or damaged. */
export class RunError extends FcnError {}

/** The planned training does not fit in the backend's memory. */
export class MemoryPlanError extends FcnError {}

/** A write that the disk refused (full, read-only, no permission); the message says what was kept. */
export class StorageError extends FcnError {}

/** A data-parallel worker thread that failed (exception, exit, out of memory) or could not start. */
export class WorkerError extends FcnError {}
