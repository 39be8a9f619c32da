import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../util/errors';
import { startProgress } from '../util/progress';
import { KITTI_ROAD_CLASSES } from './kitti-road';
import { writePng } from './png';
import { createRng, mixSeed, randInt, type Rng, uniform } from './rng';
import { IGNORE_INDEX } from './types';

/**
 * The built-in road set: street scenes drawn procedurally in perspective and
 * written in the exact KITTI Road layout, names and label colours, so the
 * KITTI Road loader reads them unchanged. It is the default dataset when
 * data/data_road is missing.
 *
 * The ground plane is a pinhole camera 1.65 m above a flat road (KITTI's
 * camera height); the road bends, narrows and sometimes forks; sidewalks with
 * curbs, facades and trees line it; cars are shaded boxes. In some scenes the
 * sidewalk has the road's asphalt, so a model has to learn where a road is,
 * not what colour it is.
 */

export type RoadCategory = 'um' | 'umm' | 'uu';

/** Image sizes [height, width] as found in KITTI Road; 1242x375 most often. */
const SIZES: readonly (readonly [number, number])[] = [
  [375, 1242],
  [375, 1242],
  [375, 1242],
  [376, 1241],
  [370, 1226],
  [374, 1238],
];

const CATEGORIES: readonly RoadCategory[] = ['um', 'umm', 'uu'];
const CAMERA_HEIGHT = 1.65;
/** Written last, so a folder without it is an interrupted run and is regenerated. */
export const BUILTIN_MARKER = 'builtin-road.json';
const GENERATOR_VERSION = 1;

/** One rendered frame. `label`: 1 road, 0 not road, IGNORE_INDEX void; `lane`: the same for the ego lane. */
export interface RoadScene {
  readonly category: RoadCategory;
  readonly height: number;
  readonly width: number;
  /** [H, W, 3] RGB. */
  readonly image: Uint8Array;
  /** [H, W] class ids. */
  readonly label: Uint8Array;
  /** [H, W] ego-lane ids (um frames carry them as um_lane_ files). */
  readonly lane: Uint8Array;
  /** Camera for the calib file: focal length and principal point in pixels. */
  readonly focal: number;
  readonly cx: number;
  readonly cy: number;
}

/** Lattice value noise in [0, 1): smooth, cheap and seeded. */
function valueNoise(x: number, y: number, seed: number): number {
  const xi = Math.floor(x);
  const yi = Math.floor(y);
  const fx = x - xi;
  const fy = y - yi;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const a = hash2(xi, yi, seed);
  const b = hash2(xi + 1, yi, seed);
  const c = hash2(xi, yi + 1, seed);
  const d = hash2(xi + 1, yi + 1, seed);
  return a + (b - a) * sx + (c + (d - c) * sx - (a + (b - a) * sx)) * sy;
}

function hash2(x: number, y: number, seed: number): number {
  let h = Math.imul(x, 0x27d4eb2d) ^ Math.imul(y, 0x165667b1) ^ seed;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

function frac(v: number): number {
  return v - Math.floor(v);
}

interface Car {
  x: number;
  z: number;
  w: number;
  h: number;
  color: [number, number, number];
}

/** Draws one scene; everything random comes from `seed`. */
export function renderRoadScene(seed: number, category: RoadCategory, height: number, width: number): RoadScene {
  const rng = createRng(seed);
  // The plan draws from rng first, then the cars and the border band: the order every built-in set was made in.
  const plan = sampleScene(rng, category, height, width);
  return drawScene(plan, rng, seed, category, height, width);
}

/** Everything random about a scene but its cars and border band: camera, road geometry, materials, light. */
type ScenePlan = ReturnType<typeof sampleScene>;

function sampleScene(rng: Rng, category: RoadCategory, height: number, width: number) {
  // Camera: focal ~ KITTI's 721 px at 1242 wide; horizon varies with pitch.
  const focal = width * uniform(rng, 0.55, 0.65);
  const cx = width / 2 + uniform(rng, -20, 20);
  const horizon = height * uniform(rng, 0.36, 0.48);

  // Road geometry, lateral metres from the camera as a function of depth z.
  const laneWidth = uniform(rng, 3, 3.7);
  const lanes = category === 'umm' ? randInt(rng, 3, 4) : 2;
  const halfWidth0 = category === 'uu' ? uniform(rng, 2.4, 3.4) : (lanes * laneWidth) / 2;
  const narrowing = uniform(rng, 0, 0.45);
  const offset =
    uniform(rng, -0.4, 0.4) * halfWidth0 + (category === 'uu' ? 0 : (laneWidth / 2) * (rng() < 0.5 ? -1 : 1) * 0.6);
  const curvature = uniform(rng, -0.006, 0.006) * (rng() < 0.25 ? 0 : 1);
  const centre = (z: number) => offset + curvature * z * z;
  const halfWidth = (z: number) => halfWidth0 * (1 - narrowing * Math.min(1, z / 60));
  const fork = rng() < 0.35;
  const forkZ = uniform(rng, 10, 28);
  const forkSide = rng() < 0.5 ? -1 : 1;
  const forkSlope = uniform(rng, 0.35, 0.9);
  const branchHalf = halfWidth0 * uniform(rng, 0.5, 0.8);
  const branchCentre = (z: number) => centre(z) + forkSide * (halfWidth0 * 0.6 + (z - forkZ) * forkSlope);
  const onBranch = (X: number, z: number) => fork && z > forkZ && Math.abs(X - branchCentre(z)) < branchHalf;
  const sidewalk = [rng() < 0.85 ? uniform(rng, 1.5, 3.5) : 0, rng() < 0.85 ? uniform(rng, 1.5, 3.5) : 0];
  const wallGap = [uniform(rng, 0.5, 6), uniform(rng, 0.5, 6)];
  const voidFrom = uniform(rng, 45, 90);
  const egoLaneIndex = Math.min(lanes - 1, Math.max(0, Math.floor((halfWidth0 - offset) / ((2 * halfWidth0) / lanes))));

  // Materials.
  const asphalt = uniform(rng, 65, 125);
  const asphaltTint = [uniform(rng, 0.95, 1.05), uniform(rng, 0.95, 1.05), uniform(rng, 0.97, 1.1)];
  const sharedTexture = rng() < 0.35;
  const paving = sharedTexture ? asphalt + uniform(rng, -6, 6) : uniform(rng, 120, 185);
  const pavingTint = sharedTexture
    ? asphaltTint
    : [uniform(rng, 0.95, 1.12), uniform(rng, 0.9, 1.02), uniform(rng, 0.85, 1.0)];
  const tiles = !sharedTexture && rng() < 0.6;
  const grass = rng() < 0.6;
  const overcast = rng() < 0.4;
  const skyTop = overcast
    ? [uniform(rng, 150, 200), 0, 0].map((v, i, a) => (i === 0 ? v : a[0] + uniform(rng, -5, 10)))
    : [uniform(rng, 70, 140), uniform(rng, 120, 170), uniform(rng, 190, 245)];
  const skyLow = [uniform(rng, 190, 235), uniform(rng, 200, 240), uniform(rng, 210, 250)];
  const hazeDistance = uniform(rng, 60, 200);
  const shadows = rng() < 0.6;
  const shadowThreshold = uniform(rng, 0.5, 0.7);
  const shadowStrength = uniform(rng, 0.45, 0.7);
  const markings = category !== 'uu';
  const dashPhase = uniform(rng, 0, 6);
  const segmentLength = uniform(rng, 8, 18);
  const segmentPhase = uniform(rng, 0, 20);

  // Global lighting and camera response, applied as each pixel is written.
  const brightness = uniform(rng, 0.65, 1.3);
  const tint = [uniform(rng, 0.9, 1.1), uniform(rng, 0.9, 1.1), uniform(rng, 0.9, 1.1)];
  const noiseAmp = uniform(rng, 3, 9);
  return {
    focal,
    cx,
    horizon,
    lanes,
    centre,
    halfWidth,
    fork,
    forkZ,
    forkSide,
    branchHalf,
    branchCentre,
    onBranch,
    sidewalk,
    wallGap,
    voidFrom,
    egoLaneIndex,
    asphalt,
    asphaltTint,
    paving,
    pavingTint,
    tiles,
    grass,
    skyTop,
    skyLow,
    hazeDistance,
    shadows,
    shadowThreshold,
    shadowStrength,
    markings,
    dashPhase,
    segmentLength,
    segmentPhase,
    gain: [brightness * tint[0], brightness * tint[1], brightness * tint[2]],
    noiseAmp,
  };
}

/** Renders a plan: facades per column, then ground or sky per pixel, then the cars and the border band. */
function drawScene(
  plan: ScenePlan,
  rng: Rng,
  seed: number,
  category: RoadCategory,
  height: number,
  width: number,
): RoadScene {
  const {
    focal,
    cx,
    horizon,
    lanes,
    centre,
    halfWidth,
    fork,
    forkZ,
    forkSide,
    branchHalf,
    branchCentre,
    onBranch,
    sidewalk,
    wallGap,
    voidFrom,
    egoLaneIndex,
    asphalt,
    asphaltTint,
    paving,
    pavingTint,
    tiles,
    grass,
    skyTop,
    skyLow,
    hazeDistance,
    shadows,
    shadowThreshold,
    shadowStrength,
    markings,
    dashPhase,
    segmentLength,
    segmentPhase,
    gain,
    noiseAmp,
  } = plan;
  const noiseSeed = mixSeed(seed, 7);
  const image = new Uint8Array(height * width * 3);
  const label = new Uint8Array(height * width);
  const lane = new Uint8Array(height * width);
  let noiseState = mixSeed(seed, 99) | 1;
  const channel = (v: number, c: number): number => {
    noiseState ^= noiseState << 13;
    noiseState ^= noiseState >>> 17;
    noiseState ^= noiseState << 5;
    const out = v * gain[c] + ((noiseState >>> 0) / 4294967296 - 0.5) * 2 * noiseAmp;
    return out <= 0 ? 0 : out >= 255 ? 255 : Math.round(out);
  };
  const put = (i: number, r: number, g: number, b: number): void => {
    image[i * 3] = channel(r, 0);
    image[i * 3 + 1] = channel(g, 1);
    image[i * 3 + 2] = channel(b, 2);
  };

  // The lateral distance of each side's facade line: beyond the sidewalk, and behind a fork's branch.
  const wallLine = (side: number, z: number): number => {
    const s = side < 0 ? 0 : 1;
    let d = halfWidth(z) + sidewalk[s] + wallGap[s];
    if (fork && side === forkSide && z > forkZ - 8) {
      d = Math.max(d, Math.abs(branchCentre(Math.max(z, forkZ)) - centre(z)) + branchHalf + sidewalk[s] + wallGap[s]);
    }
    return centre(z) + side * d;
  };
  // A facade is vertical, so where a ray meets it depends only on the column:
  // solve X = wallLine(z) along each column's ray once (fixed-point iteration).
  const colWallZ = new Float64Array(width).fill(Infinity);
  const colKind = new Uint8Array(width);
  const colTop = new Float64Array(width);
  const colKey = new Uint32Array(width);
  for (let x = 0; x < width; x++) {
    const dx = (x - cx) / focal;
    const side = dx < 0 ? -1 : 1;
    if (Math.abs(dx) <= 1e-4) continue;
    let z = 20;
    for (let it = 0; it < 4; it++) z = wallLine(side, z) / dx;
    if (!(z > 0.5 && z < 150 && Math.abs(wallLine(side, z) - dx * z) < 0.5)) continue;
    // Roadside segments along the road: 0 open (sky and terrain beyond), 1 building, 2 trees.
    const k = Math.floor((z + segmentPhase) / segmentLength);
    const key = (hash2(k, side, seed) * 4294967296) >>> 0;
    const h = hash2(k, side, key);
    colWallZ[x] = z;
    colKind[x] = h < 0.2 ? 0 : h < 0.65 ? 1 : 2;
    colTop[x] =
      colKind[x] === 1 ? 6 + 16 * hash2(k, 3, key) : 4 + 6 * hash2(k, 4, key) + 2.5 * valueNoise(z * 0.4, side, key);
    colKey[x] = key;
  }

  for (let y = 0; y < height; y++) {
    const dy = (y - horizon) / focal;
    const groundZ = dy > 0 ? CAMERA_HEIGHT / dy : Infinity;
    const skyT = Math.min(1, Math.max(0, y / Math.max(1, horizon)));
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const dx = (x - cx) / focal;
      let cls = 0;
      let egoLane = 0;
      let r: number;
      let g: number;
      let b: number;
      let depth = 0;
      const wallZ = colWallZ[x];
      const inFront = wallZ < groundZ;
      const kind = inFront ? colKind[x] : 0;
      const top = colTop[x];
      const key = colKey[x];
      const heightOnWall = CAMERA_HEIGHT - dy * wallZ;
      if (kind === 1 && heightOnWall < top) {
        // Building: a facade colour per segment, a window grid on it.
        const base = 90 + 100 * hash2(key, 1, 3);
        const warm = hash2(key, 2, 3);
        const n = valueNoise(wallZ * 3, heightOnWall * 3, noiseSeed) * 16 - 8;
        if (frac((wallZ + segmentPhase) / 2.8) > 0.3 && frac(heightOnWall / 3) > 0.35 && heightOnWall > 1) {
          r = 45 + n;
          g = 55 + n;
          b = 70 + n;
        } else {
          r = base * (0.9 + 0.3 * warm) + n;
          g = base * (0.85 + 0.15 * warm) + n;
          b = base * (0.8 + 0.1 * warm) + n;
        }
        depth = wallZ;
      } else if (kind === 2 && heightOnWall < top) {
        const leaf = valueNoise(wallZ * 1.5, heightOnWall * 1.5, noiseSeed);
        r = 40 + 50 * leaf;
        g = 70 + 70 * leaf;
        b = 30 + 30 * leaf;
        depth = wallZ;
      } else if (groundZ < 400) {
        // Ground plane.
        const z = groundZ;
        const X = dx * z;
        const rel = X - centre(z);
        const hw = halfWidth(z);
        const main = Math.abs(rel) < hw;
        const branch = onBranch(X, z);
        const outMain = Math.abs(rel) - hw;
        const outBranch =
          fork && z > forkZ - 2 ? Math.abs(X - branchCentre(Math.max(z, forkZ))) - branchHalf : Infinity;
        const out = Math.min(outMain, outBranch);
        const grain = valueNoise(X * 3, z * 3, noiseSeed) * 14 - 7;
        const patch = valueNoise(X * 0.25, z * 0.12, noiseSeed + 1) * 24 - 12;
        if (main || branch) {
          cls = 1;
          let v = asphalt + grain + patch;
          if (markings && main) {
            const dash = frac((z + dashPhase) / 6) < 0.5;
            const edge = Math.abs(Math.abs(rel) - (hw - 0.35)) < 0.08;
            let inner = false;
            for (let k = 1; k < lanes; k++) {
              if (dash && Math.abs(rel + hw - (2 * hw * k) / lanes) < 0.08) inner = true;
            }
            if ((edge || inner) && valueNoise(X * 4, z * 2, noiseSeed + 2) > 0.25) v = 215;
          }
          r = v * asphaltTint[0];
          g = v * asphaltTint[1];
          b = v * asphaltTint[2];
          // Ego lane: the lane the camera drives in at the near end.
          if (main && Math.floor((rel + hw) / ((2 * hw) / lanes)) === egoLaneIndex) egoLane = 1;
        } else {
          const s = rel < 0 ? 0 : 1;
          if (out < 0.2 && sidewalk[s] > 0) {
            r = 185 + grain;
            g = r;
            b = r * 0.98;
          } else if (out < sidewalk[s]) {
            let p = paving + grain + patch;
            if (tiles && (frac(X / 0.6) < 0.07 || frac(z / 0.6) < 0.07)) p -= 30;
            r = p * pavingTint[0];
            g = p * pavingTint[1];
            b = p * pavingTint[2];
          } else {
            const t = valueNoise(X * 2, z * 2, noiseSeed + 3);
            if (grass) {
              r = 55 + 40 * t + patch;
              g = 85 + 55 * t + patch;
              b = 35 + 25 * t;
            } else {
              r = 110 + 40 * t + patch;
              g = 95 + 30 * t + patch;
              b = 70 + 20 * t;
            }
          }
        }
        if (shadows && valueNoise(X * 0.3, z * 0.1, noiseSeed + 4) > shadowThreshold) {
          r *= shadowStrength;
          g *= shadowStrength;
          b *= shadowStrength * 1.05;
        }
        depth = z;
        // Far ground is left out of the evaluation, as KITTI's void areas are.
        if (z > voidFrom) {
          cls = IGNORE_INDEX;
          egoLane = IGNORE_INDEX;
        }
      } else {
        r = skyTop[0] + (skyLow[0] - skyTop[0]) * skyT;
        g = skyTop[1] + (skyLow[1] - skyTop[1]) * skyT;
        b = skyTop[2] + (skyLow[2] - skyTop[2]) * skyT;
      }
      if (depth > 0) {
        // Aerial perspective: far things fade to the horizon's sky colour.
        const t = 1 - Math.exp(-depth / hazeDistance);
        r += (skyLow[0] - r) * t;
        g += (skyLow[1] - g) * t;
        b += (skyLow[2] - b) * t;
      }
      label[i] = cls;
      lane[i] = egoLane;
      put(i, r, g, b);
    }
  }

  drawCars(rng, { centre, halfWidth, horizon, focal, cx, height, width, image, label, lane, put });

  // A void band along the image borders, as in real labels.
  const band = [randInt(rng, 0, 6), randInt(rng, 0, 6), randInt(rng, 0, 8)];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (x < band[0] || x >= width - band[1] || y >= height - band[2]) {
        label[y * width + x] = IGNORE_INDEX;
        lane[y * width + x] = IGNORE_INDEX;
      }
    }
  }
  return { category, height, width, image, label, lane, focal, cx, cy: horizon };
}

interface CarCanvas {
  centre(z: number): number;
  halfWidth(z: number): number;
  horizon: number;
  focal: number;
  cx: number;
  height: number;
  width: number;
  image: Uint8Array;
  label: Uint8Array;
  lane: Uint8Array;
  put(i: number, r: number, g: number, b: number): void;
}

/** Cars as shaded boxes standing on the road, with a shadow under them; drawn far to near. */
function drawCars(rng: Rng, c: CarCanvas): void {
  const cars: Car[] = [];
  const count = randInt(rng, 0, 4);
  for (let k = 0; k < count; k++) {
    const z = uniform(rng, 7, 45);
    const hw = c.halfWidth(z);
    cars.push({
      x: c.centre(z) + uniform(rng, -1, 1) * Math.max(0, hw - 1),
      z,
      w: uniform(rng, 1.6, 2),
      h: uniform(rng, 1.35, 1.7),
      color: [uniform(rng, 20, 220), uniform(rng, 20, 220), uniform(rng, 20, 220)],
    });
  }
  cars.sort((a, b) => b.z - a.z);
  for (const car of cars) {
    const left = Math.round(c.cx + (c.focal * (car.x - car.w / 2)) / car.z);
    const right = Math.round(c.cx + (c.focal * (car.x + car.w / 2)) / car.z);
    const bottom = Math.round(c.horizon + (c.focal * CAMERA_HEIGHT) / car.z);
    const top = Math.round(bottom - (c.focal * car.h) / car.z);
    const shadowTop = Math.round(c.horizon + (c.focal * CAMERA_HEIGHT) / (car.z + 3.5));
    for (let y = Math.max(0, shadowTop); y < Math.min(c.height, bottom + 2); y++) {
      for (let x = Math.max(0, left - 2); x < Math.min(c.width, right + 2); x++) {
        const i = y * c.width + x;
        c.image[i * 3] *= 0.4;
        c.image[i * 3 + 1] *= 0.4;
        c.image[i * 3 + 2] *= 0.42;
      }
    }
    const h = Math.max(1, bottom - top);
    const w = Math.max(1, right - left);
    for (let y = Math.max(0, top); y < Math.min(c.height, bottom); y++) {
      const v = (y - top) / h;
      for (let x = Math.max(0, left); x < Math.min(c.width, right); x++) {
        const u = (x - left) / w;
        const i = y * c.width + x;
        // Roof light, windows dark, body shaded to the bottom, wheels black, rear lights red.
        let rgb = car.color.map((ch) => ch * (1.1 - 0.5 * v));
        if (v > 0.12 && v < 0.42 && u > 0.1 && u < 0.9) rgb = [35, 42, 55];
        if (v > 0.85 && (u < 0.22 || u > 0.78)) rgb = [15, 15, 15];
        if (v > 0.5 && v < 0.62 && (u < 0.12 || u > 0.88)) rgb = [200, 20, 20];
        c.put(i, rgb[0], rgb[1], rgb[2]);
        if (c.label[i] !== IGNORE_INDEX) c.label[i] = 0;
        if (c.lane[i] !== IGNORE_INDEX) c.lane[i] = 0;
      }
    }
  }
}

/** Class ids -> KITTI Road label colours: road magenta, not road red, void black. */
export function kittiRoadLabelColors(ids: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(ids.length * 3);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] === IGNORE_INDEX) continue;
    const color = KITTI_ROAD_CLASSES[ids[i]].color;
    rgb[i * 3] = color[0];
    rgb[i * 3 + 1] = color[1];
    rgb[i * 3 + 2] = color[2];
  }
  return rgb;
}

/** A calib file with KITTI's 8 keys, describing the synthetic pinhole camera. */
function calibText(scene: RoadScene): string {
  const p = `${scene.focal.toExponential(6)} 0 ${scene.cx.toExponential(6)} 0 0 ${scene.focal.toExponential(6)} ${scene.cy.toExponential(6)} 0 0 0 1 0`;
  return [
    `P0: ${p}`,
    `P1: ${p}`,
    `P2: ${p}`,
    `P3: ${p}`,
    'R0_rect: 1 0 0 0 1 0 0 0 1',
    'Tr_velo_to_cam: 0 -1 0 0 0 0 -1 -0.08 1 0 0 -0.27',
    'Tr_imu_to_velo: 1 0 0 -0.81 0 1 0 0.32 0 0 1 -0.8',
    `Tr_cam_to_road: 1 0 0 0 0 1 0 ${CAMERA_HEIGHT} 0 0 1 0`,
    '',
  ].join('\n');
}

export interface SynthesizeOptions {
  /** Training frames (labelled); a tenth as many unlabelled testing frames are added. */
  readonly count: number;
  readonly seed: number;
  readonly progress?: boolean;
}

/** The frame name and seed of frame `index` of a split, e.g. umm_000012. */
function frameName(
  index: number,
  testing: boolean,
  seed: number,
): { name: string; category: RoadCategory; seed: number } {
  const category = CATEGORIES[index % 3];
  const name = `${category}_${String(Math.floor(index / 3)).padStart(6, '0')}`;
  return { name, category, seed: mixSeed(seed, testing ? 1 : 0, index) };
}

/**
 * Writes `count` training frames (image_2, gt_image_2 road labels, um lane
 * labels, calib) and count/10 testing frames under `outDir` in the KITTI Road
 * layout. Same (count, seed), same bytes.
 */
export async function synthesizeRoadSet(outDir: string, opts: SynthesizeOptions): Promise<void> {
  if (!Number.isInteger(opts.count) || opts.count < 1) {
    throw new ConfigError(`synthetic set count ${opts.count} must be a positive integer, e.g. 200`);
  }
  const numTest = Math.ceil(opts.count / 10);
  await fsp.rm(path.join(outDir, BUILTIN_MARKER), { force: true });
  for (const d of ['training/image_2', 'training/gt_image_2', 'training/calib', 'testing/image_2', 'testing/calib']) {
    await fsp.rm(path.join(outDir, d), { recursive: true, force: true });
    await fsp.mkdir(path.join(outDir, d), { recursive: true });
  }
  const bar = startProgress('synth road', opts.count + numTest, { enabled: opts.progress ?? true });
  // Encoding runs on libuv threads: keep a couple of frames in flight while the next one is drawn.
  const pending = new Set<Promise<void>>();
  let done = 0;
  for (let k = 0; k < opts.count + numTest; k++) {
    const testing = k >= opts.count;
    const frame = frameName(testing ? k - opts.count : k, testing, opts.seed);
    const [h, w] = SIZES[(createRng(frame.seed)() * SIZES.length) | 0];
    const scene = renderRoadScene(frame.seed, frame.category, h, w);
    const top = path.join(outDir, testing ? 'testing' : 'training');
    const writes = [
      writePng(path.join(top, 'image_2', `${frame.name}.png`), scene.image, h, w, 3, 3),
      fsp.writeFile(path.join(top, 'calib', `${frame.name}.txt`), calibText(scene)),
    ];
    if (!testing) {
      const [cat, num] = frame.name.split('_');
      writes.push(
        writePng(path.join(top, 'gt_image_2', `${cat}_road_${num}.png`), kittiRoadLabelColors(scene.label), h, w, 3),
      );
      if (cat === 'um') {
        writes.push(
          writePng(path.join(top, 'gt_image_2', `um_lane_${num}.png`), kittiRoadLabelColors(scene.lane), h, w, 3),
        );
      }
    }
    const p: Promise<void> = Promise.all(writes).then(() => {
      pending.delete(p);
      bar.update(++done);
    });
    pending.add(p);
    if (pending.size >= 3) await Promise.race(pending);
  }
  await Promise.all(pending);
  bar.stop();
  const marker = { generator: 'fcn-ts builtin-road', version: GENERATOR_VERSION, count: opts.count, seed: opts.seed };
  await fsp.writeFile(path.join(outDir, BUILTIN_MARKER), `${JSON.stringify(marker, null, 2)}\n`);
}

/**
 * The (count, seed) a finished synthetic set was made with, or null when `dir` holds none (or an older generator's).
 */
export async function readBuiltinMarker(dir: string): Promise<{ count: number; seed: number } | null> {
  try {
    const m = JSON.parse(await fsp.readFile(path.join(dir, BUILTIN_MARKER), 'utf8')) as {
      version?: unknown;
      count: number;
      seed: number;
    };
    return m.version === GENERATOR_VERSION ? { count: m.count, seed: m.seed } : null;
  } catch {
    return null;
  }
}
