import { setFlagsFromString } from 'node:v8';

/**
 * Caps how far V8 grows a heap past what its last full collection kept, for the whole process (the Workflow thread
 * included), to `percent` (0 leaves V8's own factor). A worker allocates a model request's whole conversation at
 * every step and drops it at once; V8's own factor lets that garbage pile up to several times the live data before a
 * full collection, so a worker's RSS climbed by about 100 MB over a 10,000-step session before it levelled off; with
 * 20 % it grew by about 35 MB (`npm run bench -- --only=long`). V8 reads the flag at each full collection, so setting
 * it after start takes effect from the next one.
 */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
