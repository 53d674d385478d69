import { AcmeProblem } from './problems.js';

export interface AdmissionLimits {
  /** Challenges waiting for or in validation (all instances) above which new work is refused. */
  maxValidationBacklog: number;
  /** Finalizations in flight on this instance above which more are refused. */
  maxFinalizing: number;
  /**
   * ACME requests in progress on this instance above which new work is refused; at twice this,
   * every request is (so memory stays bounded when thousands of devices arrive at once). None: no bound.
   */
  maxInFlight?: number;
  /** Base of the Retry-After given; each answer adds up to as much again of jitter. */
  retryAfterMs: number;
}

/**
 * Load shedding: when validation or issuance falls behind, new work is refused at once with 503 and
 * Retry-After, so that orders already under way finish instead of every client's validation timing
 * out. New orders, challenge starts and finalizations are refused first; polls and downloads,
 * which finish work, only when twice as many requests as allowed are in progress.
 */
export class Admission {
  private counted = 0;
  private startedSince = 0;
  private finalizing = 0;
  private inFlight = 0;
  private readonly maxInFlight: number;

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly random: () => number = Math.random,
  ) {
    this.maxInFlight = limits.maxInFlight ?? Infinity;
  }

  /** The store's count of challenges in validation, read by the validator on each pass. */
  backlogIs(count: number): void {
    this.counted = count;
    this.startedSince = 0;
  }

  /** A challenge was started here since the last count. */
  validationStarted(): void {
    this.startedSince++;
  }

  get validationBacklog(): number {
    return this.counted + this.startedSince;
  }

  /** Around every ACME request: counts it, or refuses it when the instance is far over its bound. */
  async request<T>(work: () => Promise<T>): Promise<T> {
    if (this.inFlight >= 2 * this.maxInFlight) throw this.shed(`${this.inFlight} requests are in progress`);
    this.inFlight++;
    try {
      return await work();
    } finally {
      this.inFlight--;
    }
  }

  admitNewOrder(): void {
    this.admitChallenge();
    if (this.finalizing >= this.limits.maxFinalizing) throw this.shed(`${this.finalizing} finalizations are in progress`);
  }

  admitChallenge(): void {
    // This request is one of those in flight.
    if (this.inFlight > this.maxInFlight) throw this.shed(`${this.inFlight} requests are in progress`);
    if (this.validationBacklog >= this.limits.maxValidationBacklog) throw this.shed(`${this.validationBacklog} validations are waiting`);
  }

  async finalize<T>(work: () => Promise<T>): Promise<T> {
    if (this.inFlight > this.maxInFlight) throw this.shed(`${this.inFlight} requests are in progress`);
    if (this.finalizing >= this.limits.maxFinalizing) throw this.shed(`${this.finalizing} finalizations are in progress`);
    this.finalizing++;
    try {
      return await work();
    } finally {
      this.finalizing--;
    }
  }

  private shed(why: string): AcmeProblem {
    // Jitter spreads the retries, so the shed clients do not come back as one wave.
    const seconds = Math.max(1, Math.ceil((this.limits.retryAfterMs * (1 + this.random())) / 1000));
    // Closing the connection frees its TLS state while the client waits: a storm of thousands of
    // devices then holds sockets only for the requests being served, not for every one waiting.
    return new AcmeProblem('rateLimited', `the CA is busy (${why}); retry after ${seconds} s`, {
      status: 503,
      headers: { 'Retry-After': String(seconds), Connection: 'close' },
    });
  }
}
