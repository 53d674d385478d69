import type { Exchange } from '@wardcert/agent';

/** Every HTTP exchange with the CA: latency distribution, and how many answers shed load. */
export class ExchangeLog {
  private ms: number[] = [];
  /** 503 answers (admission control, an instance going away). */
  shed = 0;
  /** 429 answers (rateLimited). */
  rateLimited = 0;
  /** Exchanges that got no answer at all. */
  unanswered = 0;

  readonly record = (e: Exchange): void => {
    this.ms.push(e.ms);
    if (e.status === 503) this.shed++;
    else if (e.status === 429) this.rateLimited++;
    else if (e.status === 0) this.unanswered++;
  };

  get count(): number {
    return this.ms.length;
  }

  /** The p-th percentile (0..100) in milliseconds, nearest rank; 0 when nothing was recorded. */
  percentile(p: number): number {
    if (this.ms.length === 0) return 0;
    const sorted = Float64Array.from(this.ms).sort();
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  }

  reset(): void {
    this.ms = [];
    this.shed = this.rateLimited = this.unanswered = 0;
  }
}
