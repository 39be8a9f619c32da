import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The real CamVid frames (SegNet's copy) that sit beside the repository in
 * shared/data/camvid on the developers' and CI's machines; FCN_CAMVID_DIR
 * names another copy. Tests never write there (it is read-only in CI).
 */
export const REAL_CAMVID =
  process.env.FCN_CAMVID_DIR?.trim() || path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'camvid');

/** Why the real-frame tests cannot run, or null. */
export function realCamvidSkipReason(): string | null {
  return fs.existsSync(path.join(REAL_CAMVID, 'trainannot'))
    ? null
    : `no real CamVid at ${REAL_CAMVID} (set FCN_CAMVID_DIR to a copy in SegNet's layout)`;
}

/** Copies the first `train` and `val` frames (and labels) of the real set into `dest`, in SegNet's layout. */
export function camvidSlice(dest: string, counts: { train: number; val: number }): string {
  for (const split of ['train', 'val'] as const) {
    const names = fs
      .readdirSync(path.join(REAL_CAMVID, split))
      .filter((n) => n.endsWith('.png'))
      .sort()
      .slice(0, counts[split]);
    for (const folder of [split, `${split}annot`]) {
      fs.mkdirSync(path.join(dest, folder), { recursive: true });
      for (const n of names) fs.copyFileSync(path.join(REAL_CAMVID, folder, n), path.join(dest, folder, n));
    }
  }
  return dest;
}
