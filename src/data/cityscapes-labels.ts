import { type DecodedLabel, UnknownValueCounter } from './dataset';
import { IGNORE_INDEX } from './types';

/**
 * The Cityscapes label table (cityscapesScripts labels.py). KITTI's official
 * semantic benchmark uses the same ids. Rows are [id, name, trainId, category,
 * hasInstances, ignoreInEval, colour].
 */
export interface CityscapesLabel {
  readonly id: number;
  readonly name: string;
  readonly trainId: number;
  readonly category: string;
  readonly hasInstances: boolean;
  readonly ignoreInEval: boolean;
  readonly color: readonly [number, number, number];
}

type Row = [number, string, number, string, boolean, boolean, [number, number, number]];

const ROWS: Row[] = [
  [0, 'unlabeled', 255, 'void', false, true, [0, 0, 0]],
  [1, 'ego vehicle', 255, 'void', false, true, [0, 0, 0]],
  [2, 'rectification border', 255, 'void', false, true, [0, 0, 0]],
  [3, 'out of roi', 255, 'void', false, true, [0, 0, 0]],
  [4, 'static', 255, 'void', false, true, [0, 0, 0]],
  [5, 'dynamic', 255, 'void', false, true, [111, 74, 0]],
  [6, 'ground', 255, 'void', false, true, [81, 0, 81]],
  [7, 'road', 0, 'flat', false, false, [128, 64, 128]],
  [8, 'sidewalk', 1, 'flat', false, false, [244, 35, 232]],
  [9, 'parking', 255, 'flat', false, true, [250, 170, 160]],
  [10, 'rail track', 255, 'flat', false, true, [230, 150, 140]],
  [11, 'building', 2, 'construction', false, false, [70, 70, 70]],
  [12, 'wall', 3, 'construction', false, false, [102, 102, 156]],
  [13, 'fence', 4, 'construction', false, false, [190, 153, 153]],
  [14, 'guard rail', 255, 'construction', false, true, [180, 165, 180]],
  [15, 'bridge', 255, 'construction', false, true, [150, 100, 100]],
  [16, 'tunnel', 255, 'construction', false, true, [150, 120, 90]],
  [17, 'pole', 5, 'object', false, false, [153, 153, 153]],
  [18, 'polegroup', 255, 'object', false, true, [153, 153, 153]],
  [19, 'traffic light', 6, 'object', false, false, [250, 170, 30]],
  [20, 'traffic sign', 7, 'object', false, false, [220, 220, 0]],
  [21, 'vegetation', 8, 'nature', false, false, [107, 142, 35]],
  [22, 'terrain', 9, 'nature', false, false, [152, 251, 152]],
  [23, 'sky', 10, 'sky', false, false, [70, 130, 180]],
  [24, 'person', 11, 'human', true, false, [220, 20, 60]],
  [25, 'rider', 12, 'human', true, false, [255, 0, 0]],
  [26, 'car', 13, 'vehicle', true, false, [0, 0, 142]],
  [27, 'truck', 14, 'vehicle', true, false, [0, 0, 70]],
  [28, 'bus', 15, 'vehicle', true, false, [0, 60, 100]],
  [29, 'caravan', 255, 'vehicle', true, true, [0, 0, 90]],
  [30, 'trailer', 255, 'vehicle', true, true, [0, 0, 110]],
  [31, 'train', 16, 'vehicle', true, false, [0, 80, 100]],
  [32, 'motorcycle', 17, 'vehicle', true, false, [0, 0, 230]],
  [33, 'bicycle', 18, 'vehicle', true, false, [119, 11, 32]],
  [-1, 'license plate', -1, 'vehicle', false, true, [0, 0, 142]],
];

export const CITYSCAPES_LABELS: readonly CityscapesLabel[] = Object.freeze(
  ROWS.map(([id, name, trainId, category, hasInstances, ignoreInEval, color]) =>
    Object.freeze({ id, name, trainId, category, hasInstances, ignoreInEval, color }),
  ),
);

/** 'train19': the 19 evaluated classes (trainId 0-18); 'all': every non-void id 7-33 (27 classes). */
export type CityscapesClassSet = 'train19' | 'all';

/** Label ids that are drawn in label images (0-33); license plate (-1) is never painted. */
const PAINTED = CITYSCAPES_LABELS.filter((l) => l.id >= 0);

/** The classes a model trains on, index = class id. */
export function cityscapesClasses(
  set: CityscapesClassSet,
): { name: string; color: readonly [number, number, number] }[] {
  const rows =
    set === 'train19'
      ? PAINTED.filter((l) => l.trainId !== 255).sort((a, b) => a.trainId - b.trainId)
      : PAINTED.filter((l) => l.category !== 'void');
  return rows.map((l) => ({ name: l.name, color: l.color }));
}

/** label id -> class id (IGNORE_INDEX for void and ignored ids); ids not in the table are left out. */
export function cityscapesIdLookup(set: CityscapesClassSet): Map<number, number> {
  const firstNonVoid = 7;
  return new Map(
    PAINTED.map((l) => [
      l.id,
      set === 'train19' ? l.trainId : l.category === 'void' ? IGNORE_INDEX : l.id - firstNonVoid,
    ]),
  );
}

/** Maps an 8-bit label-id image through `lookup`; ids the table lacks become the ignore id and are counted. */
export function decodeIdLabel(
  ids: Uint8Array,
  height: number,
  width: number,
  lookup: ReadonlyMap<number, number>,
): DecodedLabel {
  // A 256-entry table turns the per-pixel Map lookup into an array index.
  const table = new Int16Array(256).fill(-1);
  for (const [id, cls] of lookup) if (id >= 0 && id < 256) table[id] = cls;
  const out = new Uint8Array(height * width);
  const unknown = new UnknownValueCounter(width);
  for (let i = 0; i < out.length; i++) {
    const cls = table[ids[i]];
    if (cls < 0) {
      out[i] = IGNORE_INDEX;
      unknown.add(i, `id ${ids[i]}`);
    } else {
      out[i] = cls;
    }
  }
  return { label: { data: out, height, width }, unknown: unknown.values };
}
