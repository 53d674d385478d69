import type { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { fromMillis, type Millis } from './columns.js';
import { randomId } from './ids.js';
import { isSealed, type SecretBox } from './secret-box.js';

export interface EabCredential {
  kid: string;
  /** base64url, as RFC 8555 clients expect it. */
  hmacKey: string;
  deviceId: string | null;
  /** Exact names, ".suffix" entries and CIDR blocks; empty means the server's policy alone. */
  identifiers: string[];
  createdAt: Date;
  accountId: string | null;
}

export interface EabRepository {
  /** The returned credential carries the key in the clear, to be shown once; the store keeps it sealed. */
  create(input: { deviceId?: string | null; identifiers: string[]; trx?: Knex.Transaction }, now: Date): Promise<EabCredential>;
  byKid(kid: string): Promise<EabCredential | undefined>;
  /** Binds the credential to an account; false when another account already used it. */
  bind(kid: string, accountId: string, now: Date, trx?: Knex.Transaction): Promise<boolean>;
  /** Seals keys that an older version stored in plaintext; returns how many. */
  sealPlaintextKeys(): Promise<number>;
}

interface Row {
  kid: string;
  hmac_key: string;
  device_id: string | null;
  identifiers: string;
  created_at: Millis;
  account_id: string | null;
}

/**
 * 256 random bits, base64url. A key that begins with "-" would be read as an option by the ACME
 * clients' command lines (certbot --eab-hmac-key, lego --hmac), so such a draw is made again.
 */
function hmacKey(): string {
  for (;;) {
    const key = randomBytes(32).toString('base64url');
    if (!key.startsWith('-')) return key;
  }
}

/** The HMAC key is sealed at rest with the kid as context (see secret-box.ts). */
export function eabRepository(db: Knex, secrets: SecretBox): EabRepository {
  const fromRow = async (row: Row): Promise<EabCredential> => ({
    kid: row.kid,
    hmacKey: isSealed(row.hmac_key) ? await secrets.open(row.hmac_key, row.kid) : row.hmac_key,
    deviceId: row.device_id,
    identifiers: JSON.parse(row.identifiers) as string[],
    createdAt: fromMillis(row.created_at),
    accountId: row.account_id,
  });
  return {
    async create(input, now) {
      const kid = `kid-${randomId()}`;
      const key = hmacKey();
      const row = {
        kid,
        hmac_key: await secrets.seal(key, kid),
        device_id: input.deviceId ?? null,
        identifiers: JSON.stringify(input.identifiers),
        created_at: now.getTime(),
        account_id: null,
      };
      await (input.trx ?? db)('eab_credentials').insert(row);
      return { kid, hmacKey: key, deviceId: row.device_id, identifiers: input.identifiers, createdAt: now, accountId: null };
    },
    async byKid(kid) {
      const row = await db<Row>('eab_credentials').where({ kid }).first();
      return row ? fromRow(row) : undefined;
    },
    async sealPlaintextKeys() {
      const rows = await db<Row>('eab_credentials').whereNot('hmac_key', 'like', 'v1.%').select('kid', 'hmac_key');
      for (const row of rows) {
        await db('eab_credentials').where({ kid: row.kid, hmac_key: row.hmac_key }).update({ hmac_key: await secrets.seal(row.hmac_key, row.kid) });
      }
      return rows.length;
    },
    async bind(kid, accountId, now, trx) {
      const updated = await (trx ?? db)('eab_credentials')
        .where({ kid })
        .whereNull('account_id')
        .update({ account_id: accountId, used_at: now.getTime() });
      return updated === 1;
    },
  };
}
