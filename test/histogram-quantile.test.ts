import { describe, expect, it } from 'vitest';
import { bucketsBetween, histogramBuckets, histogramQuantile, sumBuckets } from '../bench/percentiles';

const EXPOSITION = `# HELP d the delay
# TYPE d histogram
d_bucket{le="0.01"} 10
d_bucket{le="0.1"} 90
d_bucket{le="+Inf"} 100
d_sum 5
d_count 100
other_bucket{le="0.01"} 7
`;

describe('the bench reads Prometheus histograms', () => {
  it('parses one histogram’s buckets, in bound order, and no other metric’s', () => {
    expect(histogramBuckets(EXPOSITION, 'd')).toEqual([
      [0.01, 10],
      [0.1, 90],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    expect(histogramBuckets(EXPOSITION, 'missing')).toEqual([]);
  });

  it('interpolates a quantile inside its bucket as histogram_quantile does', () => {
    const buckets = histogramBuckets(EXPOSITION, 'd');
    // Rank 5 of 10 in [0, 0.01]; rank 50 is 40 of the 80 in (0.01, 0.1]; rank 95 is in +Inf: the highest finite bound.
    expect(histogramQuantile(0.05, buckets)).toBeCloseTo(0.005);
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.055);
    expect(histogramQuantile(0.95, buckets)).toBe(0.1);
    expect(histogramQuantile(0.5, [[0.01, 0]])).toBeNaN();
  });

  it('takes the difference of two scrapes and adds servers up', () => {
    const before: [number, number][] = [
      [0.01, 4],
      [Number.POSITIVE_INFINITY, 5],
    ];
    const after: [number, number][] = [
      [0.01, 6],
      [Number.POSITIVE_INFINITY, 9],
    ];
    expect(bucketsBetween(before, after)).toEqual([
      [0.01, 2],
      [Number.POSITIVE_INFINITY, 4],
    ]);
    expect(sumBuckets([before, after])).toEqual([
      [0.01, 10],
      [Number.POSITIVE_INFINITY, 14],
    ]);
  });
});
