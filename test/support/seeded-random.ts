/** A reproducible source of numbers in [0, 1): the same seed gives the same sequence on every run. */
export type SeededRandom = () => number;

/**
 * The mulberry32 generator (32-bit state, a full period of 2^32): small, fast, and good enough to pick fault times and
 * kinds; not for anything secret.
 */
export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A whole number between `min` and `max`, both included, drawn from `random`. */
export function randomBetween(random: SeededRandom, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
