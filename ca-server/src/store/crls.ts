import type { Knex } from 'knex';
import { fromMillis, toBuffer, type Millis } from './columns.js';

export interface StoredCrl {
  number: bigint;
  der: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
}

export interface CrlRepository {
  current(issuerKeyId: string): Promise<StoredCrl | undefined>;
  /**
   * Takes the signing lease for this issuer until `until`; returns the last CRL number, or undefined
   * when another instance holds the lease.
   */
  lease(issuerKeyId: string, now: Date, until: Date): Promise<bigint | undefined>;
  /** Stores the next CRL and releases the lease. */
  publish(issuerKeyId: string, crl: StoredCrl): Promise<void>;
  release(issuerKeyId: string): Promise<void>;
}

interface Row {
  issuer_key_id: string;
  number: Millis;
  der: Buffer | null;
  this_update: Millis | null;
  next_update: Millis | null;
  lease_until: Millis;
}

export function crlRepository(db: Knex): CrlRepository {
  return {
    async current(issuerKeyId) {
      const row = await db<Row>('crls').where({ issuer_key_id: issuerKeyId }).first();
      if (!row?.der || row.this_update === null || row.next_update === null) return undefined;
      return { number: BigInt(row.number), der: row.der, thisUpdate: fromMillis(row.this_update), nextUpdate: fromMillis(row.next_update) };
    },
    async lease(issuerKeyId, now, until) {
      await db('crls').insert({ issuer_key_id: issuerKeyId, number: 0, lease_until: 0 }).onConflict('issuer_key_id').ignore();
      const won = await db('crls')
        .where({ issuer_key_id: issuerKeyId })
        .andWhere('lease_until', '<', now.getTime())
        .update({ lease_until: until.getTime() });
      if (won !== 1) return undefined;
      const row = await db<Row>('crls').where({ issuer_key_id: issuerKeyId }).first('number');
      return BigInt(row!.number);
    },
    async publish(issuerKeyId, crl) {
      await db('crls').where({ issuer_key_id: issuerKeyId }).update({
        number: crl.number.toString(),
        der: toBuffer(crl.der),
        this_update: crl.thisUpdate.getTime(),
        next_update: crl.nextUpdate.getTime(),
        lease_until: 0,
      });
    },
    async release(issuerKeyId) {
      await db('crls').where({ issuer_key_id: issuerKeyId }).update({ lease_until: 0 });
    },
  };
}
