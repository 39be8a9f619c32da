import * as path from 'node:path';
import { readBuiltinMarker, synthesizeRoadSet } from './builtin-road';
import { detectLayout } from './layout';

/** Size and seed of the built-in set used whenever KITTI Road is missing. */
export const BUILTIN_ROAD_COUNT = 200;
export const BUILTIN_ROAD_SEED = 0;

/**
 * The road dataset to use when the user names none: data/data_road if it
 * holds KITTI Road, else data/builtin_road (generated if missing). `note` is
 * the one line every caller prints so that nobody mistakes the synthetic set
 * for KITTI.
 */
export async function resolveRoadDataset(
  dataRoot = 'data',
  opts: { progress?: boolean } = {},
): Promise<{ name: 'kitti-road'; dir: string; builtin: boolean; note: string }> {
  const kitti = path.join(dataRoot, 'data_road');
  const layout = await detectLayout(kitti);
  if (
    layout !== null &&
    layout.dataset === 'kitti-road' &&
    layout.root === kitti &&
    (await readBuiltinMarker(kitti)) === null
  ) {
    return { name: 'kitti-road', dir: kitti, builtin: false, note: `data: KITTI Road from ${kitti}` };
  }
  const dir = path.join(dataRoot, 'builtin_road');
  const marker = await readBuiltinMarker(dir);
  let made = '';
  if (marker === null || marker.count !== BUILTIN_ROAD_COUNT || marker.seed !== BUILTIN_ROAD_SEED) {
    await synthesizeRoadSet(dir, { count: BUILTIN_ROAD_COUNT, seed: BUILTIN_ROAD_SEED, progress: opts.progress });
    made = ', generated now';
  }
  return {
    name: 'kitti-road',
    dir,
    builtin: true,
    note:
      `data: KITTI Road not found in ${kitti}; using the built-in road set ${dir} ` +
      `(${BUILTIN_ROAD_COUNT} synthetic images${made}; \`fcn data download kitti-road\` gets the real one)`,
  };
}
