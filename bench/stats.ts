/** Small statistics for benchmark figures. */

/** The p-quantile (0..1) of ascending `sorted` (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Samples the peak RSS of this process every 100 ms until stopped; `reset` starts a new peak. */
export class RssSampler {
  private peakBytes = process.memoryUsage.rss();
  private readonly timer = setInterval(() => {
    this.peakBytes = Math.max(this.peakBytes, process.memoryUsage.rss());
  }, 100);

  get peakMb(): number {
    return Math.round(Math.max(this.peakBytes, process.memoryUsage.rss()) / 1e6);
  }

  reset(): void {
    this.peakBytes = process.memoryUsage.rss();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
