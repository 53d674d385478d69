import type { Knex } from 'knex';
import { fromMillis, toBuffer, toMillis, type Millis } from './columns.js';

export interface StoredCrl {
  number: bigint;
  der: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
}

export interface CrlRepository {
  current(issuerKeyId: string): Promise<StoredCrl | undefined>;
  /**
   * Takes the signing lease for this issuer until `until`, which is also the lease's token; returns
   * the last CRL number (0 before the first), or undefined while another holder's lease runs.
   */
  lease(issuerKeyId: string, now: Date, until: Date): Promise<bigint | undefined>;
  /**
   * Stores the next CRL and ends the lease. False when the lease `until` was lost (it expired and
   * someone else took it) or the number would not grow: then nothing is stored.
   */
  publish(issuerKeyId: string, until: Date, crl: StoredCrl): Promise<boolean>;
  /** Ends the lease `until` without a new CRL; someone else's lease is left alone. */
  release(issuerKeyId: string, until: Date): Promise<void>;
}

interface Row {
  issuer_key_id: string;
  /** bigint: SQLite gives a number, pg a string. */
  number: number | string;
  der: Buffer | null;
  this_update: Millis | null;
  next_update: Millis | null;
  lease_until: Millis;
}

const NO_LEASE = 0;

export function crlRepository(db: Knex): CrlRepository {
  const table = () => db<Row>('crls');
  return {
    async current(issuerKeyId) {
      const row = await table().where({ issuer_key_id: issuerKeyId }).first();
      if (!row?.der || row.this_update === null || row.next_update === null) return undefined;
      return { number: BigInt(row.number), der: row.der, thisUpdate: fromMillis(row.this_update), nextUpdate: fromMillis(row.next_update) };
    },

    async lease(issuerKeyId, now, until) {
      await table().insert({ issuer_key_id: issuerKeyId, number: 0, lease_until: NO_LEASE }).onConflict('issuer_key_id').ignore();
      // One conditional UPDATE decides between racing instances on either database.
      const won = await table()
        .where({ issuer_key_id: issuerKeyId })
        .andWhere('lease_until', '<', toMillis(now))
        .update({ lease_until: toMillis(until) });
      if (won !== 1) return undefined;
      const row = await table().where({ issuer_key_id: issuerKeyId }).first('number');
      return BigInt(row!.number);
    },

    async publish(issuerKeyId, until, crl) {
      const changed = await table()
        .where({ issuer_key_id: issuerKeyId, lease_until: toMillis(until) })
        .andWhere('number', '<', crl.number.toString())
        .update({
          number: crl.number.toString(),
          der: toBuffer(crl.der),
          this_update: toMillis(crl.thisUpdate),
          next_update: toMillis(crl.nextUpdate),
          lease_until: NO_LEASE,
        });
      return changed === 1;
    },

    async release(issuerKeyId, until) {
      await table().where({ issuer_key_id: issuerKeyId, lease_until: toMillis(until) }).update({ lease_until: NO_LEASE });
    },
  };
}
