import type { Knex } from 'knex';
import { randomId } from './ids.js';

export interface NonceRepository {
  issue(now: Date, ttlMs: number): Promise<string>;
  /** True exactly once per issued, unexpired nonce: the delete is the check, so replays lose. */
  consume(value: string, now: Date): Promise<boolean>;
  purgeExpired(now: Date): Promise<number>;
}

export function nonceRepository(db: Knex): NonceRepository {
  return {
    async issue(now, ttlMs) {
      const value = randomId();
      await db('nonces').insert({ value, expires_at: now.getTime() + ttlMs });
      return value;
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
