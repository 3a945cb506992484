import { setFlagsFromString } from 'node:v8';

/**
 * Caps how far V8 grows a heap past what its last full collection kept, for the whole process (the Workflow thread
 * included), to `percent` (0 leaves V8's own factor). A worker allocates a model request's whole conversation at
 * every step and drops it at once; V8's own factor lets that garbage pile up to several times the live data before a
 * full collection, so a worker's RSS climbs by about 100 MB over a long session before it levels off. With 20 % it
 * stays within about 15 MB (`npm run bench -- --only=long`). V8 reads the flag at each collection, so setting it
 * after start takes effect from the next one.
 */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
