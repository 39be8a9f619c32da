import type { ClassInfo } from './types';

/**
 * CamVid's classes. The original release (Brostow et al. 2008) labels 32
 * classes by colour; SegNet's copy groups them into 11 (Void ignored), the
 * grouping that most papers since report on. fastai's copy stores the 32 as
 * ids in the alphabetical order of its codes.txt, which is the order below.
 */

/** The 11 classes of SegNet's copy (ids 0-10; 11 is void), in SegNet's drawing colours. */
export const CAMVID_CLASSES: readonly ClassInfo[] = Object.freeze([
  { name: 'sky', color: [128, 128, 128] },
  { name: 'building', color: [128, 0, 0] },
  { name: 'pole', color: [192, 192, 128] },
  { name: 'road', color: [128, 64, 128] },
  { name: 'pavement', color: [60, 40, 222] },
  { name: 'tree', color: [128, 128, 0] },
  { name: 'sign/symbol', color: [192, 128, 128] },
  { name: 'fence', color: [64, 64, 128] },
  { name: 'car', color: [64, 0, 128] },
  { name: 'pedestrian', color: [64, 64, 0] },
  { name: 'bicyclist', color: [0, 128, 192] },
] as ClassInfo[]);

/** SegNet's label id for void (unlabelled): ignored in the loss and the metrics. */
export const CAMVID_VOID_ID = 11;

/** [name, colour, index into CAMVID_CLASSES or null for void] of the 32 original labels, codes.txt order. */
type Row = [string, [number, number, number], number | null];

const ROWS: Row[] = [
  ['Animal', [64, 128, 64], 9],
  ['Archway', [192, 0, 128], 1],
  ['Bicyclist', [0, 128, 192], 10],
  ['Bridge', [0, 128, 64], 1],
  ['Building', [128, 0, 0], 1],
  ['Car', [64, 0, 128], 8],
  ['CartLuggagePram', [64, 0, 192], 9],
  ['Child', [192, 128, 64], 9],
  ['Column_Pole', [192, 192, 128], 2],
  ['Fence', [64, 64, 128], 7],
  ['LaneMkgsDriv', [128, 0, 192], 3],
  ['LaneMkgsNonDriv', [192, 0, 64], 3],
  ['Misc_Text', [128, 128, 64], 6],
  ['MotorcycleScooter', [192, 0, 192], 10],
  ['OtherMoving', [128, 64, 64], 8],
  ['ParkingBlock', [64, 192, 128], 4],
  ['Pedestrian', [64, 64, 0], 9],
  ['Road', [128, 64, 128], 3],
  ['RoadShoulder', [128, 128, 192], 4],
  ['Sidewalk', [0, 0, 192], 4],
  ['SignSymbol', [192, 128, 128], 6],
  ['Sky', [128, 128, 128], 0],
  ['SUVPickupTruck', [64, 128, 192], 8],
  ['TrafficCone', [0, 0, 64], 2],
  ['TrafficLight', [0, 64, 64], 6],
  ['Train', [192, 64, 128], 8],
  ['Tree', [128, 128, 0], 5],
  ['Truck_Bus', [192, 128, 192], 8],
  ['Tunnel', [64, 0, 64], 1],
  ['VegetationMisc', [192, 192, 0], 5],
  ['Void', [0, 0, 0], null],
  ['Wall', [64, 192, 0], 1],
];

export interface CamvidLabel32 {
  readonly name: string;
  readonly color: readonly [number, number, number];
  /** Its class among the 11, null for Void. */
  readonly group: number | null;
}

/** The 32 labels of the original release, in codes.txt order (index = fastai's id). */
export const CAMVID_LABELS_32: readonly CamvidLabel32[] = Object.freeze(
  ROWS.map(([name, color, group]) => Object.freeze({ name, color, group })),
);

/** The 31 classes a 32-label model predicts (Void is ignored, so it is no class). */
export const CAMVID_CLASSES_31: readonly ClassInfo[] = Object.freeze(
  CAMVID_LABELS_32.filter((l) => l.group !== null).map((l) => ({ name: l.name, color: l.color })),
);

/** How many of CamVid's labels a model predicts: the 11 groups, or the original 32 (31 classes + void). */
export type CamvidClassSet = 11 | 32;

/**
 * Lookup from a 32-label index (codes.txt order) to a class id of the chosen
 * set, 255 for Void and for indices past the table.
 */
export function camvid32Lookup(classSet: CamvidClassSet): Uint8Array {
  const lut = new Uint8Array(256).fill(255);
  let kept = 0;
  CAMVID_LABELS_32.forEach((l, i) => {
    if (l.group === null) return;
    lut[i] = classSet === 11 ? l.group : kept;
    kept++;
  });
  return lut;
}

/** Lookup from a packed colour (r << 16 | g << 8 | b) to its 32-label index. */
export function camvidColorIndex(): Map<number, number> {
  const m = new Map<number, number>();
  CAMVID_LABELS_32.forEach((l, i) => m.set((l.color[0] << 16) | (l.color[1] << 8) | l.color[2], i));
  return m;
}
