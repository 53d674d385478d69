import type { Knex } from 'knex';

export interface RateLimitRepository {
  /**
   * Counts one event for `key` in the fixed window containing `now`; returns the count after it.
   * The counter lives in the store so every instance sees the same number.
   */
  hit(key: string, now: Date, windowMs: number): Promise<number>;
}

export function rateLimitRepository(db: Knex): RateLimitRepository {
  return {
    async hit(key, now, windowMs) {
      const windowStart = Math.floor(now.getTime() / windowMs) * windowMs;
      // RETURNING gives this hit's own count, read in the statement that made it.
      const [row] = await db('rate_counters')
        .insert({ key, window_start: windowStart, count: 1 })
        .onConflict(['key', 'window_start'])
        .merge({ count: db.raw('rate_counters.count + 1') })
        .returning('count');
      return Number(row?.count ?? 1);
    },
  };
}
