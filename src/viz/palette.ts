import type { ClassInfo } from '../data/types';

export type Rgb = readonly [number, number, number];

/** Overlay colour per class id; null = leave that class unpainted. */
export type Palette = readonly (Rgb | null)[];

/** Every class in its dataset colour (multi-class overlays). */
export function paletteFromClasses(classes: readonly ClassInfo[]): Palette {
  return classes.map((c) => c.color);
}

/** KITTI Road view: only road (class 1) painted, in green; background left as the photo. */
export const ROAD_PALETTE: Palette = Object.freeze([null, [0, 255, 0] as const]);

/**
 * The overlay palette for a dataset: road alone in green for the two-class road task, every class in its colour
 * otherwise.
 */
export function paletteFor(classes: readonly ClassInfo[]): Palette {
  return classes.length === 2 ? ROAD_PALETTE : paletteFromClasses(classes);
}
