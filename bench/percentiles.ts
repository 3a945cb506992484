/** The value at percentile `p` (0-100) of `values`, by nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((left, right) => left - right);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** The gaps between consecutive times (ms, in order): a step's duration from one step's end to the next one's. */
export function gapsBetween(times: number[]): number[] {
  return times.slice(1).map((time, index) => time - times[index]!);
}

/** Formats milliseconds with one decimal. */
export function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

/** A Prometheus histogram's cumulative bucket counts by upper bound (`le`, `Infinity` for `+Inf`), in bound order. */
export type HistogramBuckets = [upperBound: number, cumulativeCount: number][];

/** The buckets of histogram `name` (no labels) in a Prometheus text exposition; empty when it is not there. */
export function histogramBuckets(exposition: string, name: string): HistogramBuckets {
  const buckets: HistogramBuckets = [];
  const pattern = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm');
  for (const match of exposition.matchAll(pattern)) {
    const bound = match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]);
    buckets.push([bound, Number(match[2])]);
  }
  return buckets.sort((left, right) => left[0] - right[0]);
}

/** What `after` counted that `before` had not, bucket by bucket (the scrapes of two moments, summed over servers). */
export function bucketsBetween(before: HistogramBuckets, after: HistogramBuckets): HistogramBuckets {
  return after.map(([bound, count]) => [bound, count - (before.find(([other]) => other === bound)?.[1] ?? 0)]);
}

/** Bucket counts of several histograms of the same buckets added up (several servers). */
export function sumBuckets(histograms: HistogramBuckets[]): HistogramBuckets {
  const first = histograms[0] ?? [];
  return first.map(([bound], index) => [
    bound,
    histograms.reduce((sum, histogram) => sum + (histogram[index]?.[1] ?? 0), 0),
  ]);
}

/**
 * The `q` quantile (0-1) of a histogram, interpolated linearly inside its bucket as Prometheus's `histogram_quantile`
 * does (from 0 in the first bucket); `NaN` with no observations, and the highest finite bound when it falls in `+Inf`.
 */
export function histogramQuantile(q: number, buckets: HistogramBuckets): number {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return lowerBound;
      if (count === lowerCount) return bound;
      return lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / (count - lowerCount);
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}
