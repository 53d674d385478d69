import type { Knex } from 'knex';
import { randomId } from './ids.js';

export interface NonceRepository {
  issue(now: Date, ttlMs: number): Promise<string>;
  /** True exactly once per issued, unexpired nonce: the delete is the check, so replays lose. */
  consume(value: string, now: Date): Promise<boolean>;
  purgeExpired(now: Date): Promise<number>;
}

/** Nonces written to the store per insert: every ACME answer carries one, so they go out in batches. */
const BATCH = 64;

/**
 * Nonces live in the store, so any instance accepts any instance's nonce. They are inserted a batch
 * at a time and handed out from here: one write per 64 answers instead of one each. A batch this
 * instance never hands out (it stopped) only waits for its expiry; nobody else knows those values.
 */
export function nonceRepository(db: Knex): NonceRepository {
  let ready: { value: string; expiresAt: number }[] = [];
  let refill: Promise<void> | undefined;

  const insertBatch = async (now: Date, ttlMs: number) => {
    const expiresAt = now.getTime() + ttlMs;
    const batch = Array.from({ length: BATCH }, () => ({ value: randomId(), expiresAt }));
    await db('nonces').insert(batch.map((n) => ({ value: n.value, expires_at: n.expiresAt })));
    ready.push(...batch);
  };

  return {
    async issue(now, ttlMs) {
      for (;;) {
        // A nonce kept here must still have at least half its lifetime ahead of it.
        const fresh = (n: { expiresAt: number }) => n.expiresAt - now.getTime() >= ttlMs / 2 && n.expiresAt - now.getTime() <= ttlMs;
        while (ready.length && !fresh(ready[ready.length - 1]!)) ready.pop();
        const next = ready.pop();
        if (next) return next.value;
        refill ??= insertBatch(now, ttlMs).finally(() => (refill = undefined));
        await refill;
      }
    },
    async consume(value, now) {
      const deleted = await db('nonces').where({ value }).andWhere('expires_at', '>', now.getTime()).delete();
      return deleted === 1;
    },
    async purgeExpired(now) {
      return db('nonces').where('expires_at', '<=', now.getTime()).delete();
    },
  };
}
