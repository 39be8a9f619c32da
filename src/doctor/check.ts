/**
 * One line of `fcn doctor`: what was checked, how it stands, and the exact
 * fix. Checks are data, so `fcn doctor`, `npm start` and the tests read the
 * same result.
 */
export type CheckStatus = 'OK' | 'WARN' | 'FAIL';

export interface DoctorCheck {
  /** What was checked, e.g. `node`, `tfjs-node-gpu`, `tslab kernel`. */
  readonly name: string;
  /** OK: fine; WARN: works, but slower or with less; FAIL: `npm start` cannot run. */
  readonly status: CheckStatus;
  /** What was found. */
  readonly detail: string;
  /** The command or step that fixes it; null when nothing needs fixing. */
  readonly fix: string | null;
}

export const ok = (name: string, detail: string): DoctorCheck => ({ name, status: 'OK', detail, fix: null });
export const warn = (name: string, detail: string, fix: string | null): DoctorCheck => ({
  name,
  status: 'WARN',
  detail,
  fix,
});
export const fail = (name: string, detail: string, fix: string): DoctorCheck => ({ name, status: 'FAIL', detail, fix });
