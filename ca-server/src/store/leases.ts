import type { Knex } from 'knex';
import { toMillis } from './columns.js';
import { randomId } from './ids.js';

/**
 * Named leases in the store: of several instances on one database, one holds a name at a time, and
 * a holder that dies simply lets its lease run out. The CRL lease lives in its own row (crls.ts).
 */
export interface LeaseRepository {
  /** The lease's token until `until`, or undefined while another holder's lease runs. */
  acquire(name: string, now: Date, until: Date): Promise<string | undefined>;
  /** Ends the lease `token`; a lease someone else took since is left alone. */
  release(name: string, token: string): Promise<void>;
}

export function leaseRepository(db: Knex): LeaseRepository {
  return {
    async acquire(name, now, until) {
      const token = randomId();
      const row = { name, token, until: toMillis(until) };
      // One statement decides between racing instances: the insert, or the update of a run-out lease.
      const won = await db('leases')
        .insert(row)
        .onConflict('name')
        .merge(row)
        .where('leases.until', '<', toMillis(now))
        .returning('token');
      return won.length === 1 ? token : undefined;
    },
    async release(name, token) {
      await db('leases').where({ name, token }).delete();
    },
  };
}
