import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DuplicateSerialError,
  migrationSource,
  openStore,
  type NewCertificate,
  type Store,
  type StoreOptions,
} from '../src/store/index.js';
import { createPostgresSchema, runPostgresTests } from './helpers/postgres.js';

/** Every migration the store ships, in order. */
const ALL_MIGRATIONS = (await migrationSource.getMigrations([])).map((m) => migrationSource.getMigrationName(m));

interface Location {
  options: StoreOptions;
  dispose(): Promise<void>;
}

async function sqliteLocation(): Promise<Location> {
  const dataDir = await mkdtemp(join(tmpdir(), 'wardcert-store-'));
  return { options: { dataDir }, dispose: () => rm(dataDir, { recursive: true, force: true }) };
}

async function postgresLocation(): Promise<Location> {
  const { url, drop } = await createPostgresSchema();
  return { options: { url }, dispose: drop };
}

const DAY = 86_400_000;

function certificate(serial: string, overrides: Partial<NewCertificate> = {}): NewCertificate {
  return {
    serial,
    profile: 'dicom-node',
    subject: 'CN=pacs01.radiology.example',
    identifiers: [
      { type: 'dns', value: 'pacs01.radiology.example' },
      { type: 'ip', value: '10.20.30.40' },
    ],
    notBefore: new Date(Date.UTC(2025, 0, 1, 0, 0, 0, 123)),
    notAfter: new Date(Date.UTC(2025, 0, 8, 0, 0, 0, 456)),
    der: Uint8Array.from([0x30, 0x82, 0x00, 0xff, 0x00, 0x01]),
    issuerKeyId: 'a1b2c3d4e5f60718293a4b5c6d7e8f9001122334',
    spkiSha256: 'ab'.repeat(32),
    ...overrides,
  };
}

const backends = [
  { name: 'sqlite', enabled: true, location: sqliteLocation },
  { name: 'postgres', enabled: runPostgresTests, location: postgresLocation },
] as const;

for (const backend of backends) {
  describe.skipIf(!backend.enabled)(`store on ${backend.name}`, () => {
    let location: Location;
    let store: Store;
    // Filled as each resource comes up, so a failed setup never closes another test's resources.
    const cleanups: (() => Promise<void>)[] = [];

    beforeEach(async () => {
      location = await backend.location();
      cleanups.push(location.dispose);
      store = await openStore(location.options);
      cleanups.push(() => store.close()); // whichever store the test left open
    });

    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    it('reports its dialect', () => {
      expect(store.dialect).toBe(backend.name);
    });

    it('round-trips every field of a certificate', async () => {
      const before = Date.now();
      const farFuture = new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)); // beyond int4 and 2^32 seconds
      await store.certificates.insert(
        certificate('0a1b', {
          notAfter: farFuture,
          accountId: 'acct-1',
          orderId: 'order-1',
          deviceId: 'device-1',
          replaces: 'aKI.c2VyaWFs',
        }),
      );
      const record = await store.certificates.bySerial('0a1b');
      expect(record).toBeDefined();
      const { der, issuedAt, ...rest } = record!;
      expect(rest).toEqual({
        serial: '0a1b',
        profile: 'dicom-node',
        subject: 'CN=pacs01.radiology.example',
        identifiers: [
          { type: 'dns', value: 'pacs01.radiology.example' },
          { type: 'ip', value: '10.20.30.40' },
        ],
        notBefore: new Date(Date.UTC(2025, 0, 1, 0, 0, 0, 123)),
        notAfter: farFuture,
        issuerKeyId: 'a1b2c3d4e5f60718293a4b5c6d7e8f9001122334',
        spkiSha256: 'ab'.repeat(32),
        accountId: 'acct-1',
        orderId: 'order-1',
        deviceId: 'device-1',
        replaces: 'aKI.c2VyaWFs',
        status: 'valid',
        revokedAt: null,
        revocationReason: null,
        renewBy: null,
      });
      expect(der).toBeInstanceOf(Uint8Array);
      expect([...der]).toEqual([0x30, 0x82, 0x00, 0xff, 0x00, 0x01]);
      expect(issuedAt).toBeInstanceOf(Date);
      expect(issuedAt.getTime()).toBeGreaterThanOrEqual(before);
      expect(issuedAt.getTime()).toBeLessThanOrEqual(Date.now());
    });

    it('stores optional links as null when omitted', async () => {
      await store.certificates.insert(certificate('01'));
      expect(await store.certificates.bySerial('01')).toMatchObject({
        accountId: null,
        orderId: null,
        deviceId: null,
        replaces: null,
      });
    });

    it('stores a DER slice of a larger buffer without its neighbours', async () => {
      const backing = Uint8Array.from([9, 9, 0x30, 0x03, 0x02, 0x01, 0x05, 9, 9]);
      await store.certificates.insert(certificate('02', { der: backing.subarray(2, 7) }));
      const record = await store.certificates.bySerial('02');
      expect([...record!.der]).toEqual([0x30, 0x03, 0x02, 0x01, 0x05]);
    });

    it('keeps serials exactly as given', async () => {
      await store.certificates.insert(certificate('00ff'));
      expect((await store.certificates.bySerial('00ff'))?.serial).toBe('00ff');
      expect(await store.certificates.bySerial('ff')).toBeUndefined();
    });

    it('rejects a duplicate serial with a typed error and keeps the first certificate', async () => {
      await store.certificates.insert(certificate('0bad'));
      const second = store.certificates.insert(certificate('0bad', { profile: 'hl7-endpoint' }));
      await expect(second).rejects.toBeInstanceOf(DuplicateSerialError);
      await expect(second).rejects.toMatchObject({ serial: '0bad' });
      expect((await store.certificates.bySerial('0bad'))?.profile).toBe('dicom-node');
    });

    it('rejects an invalid Date instead of storing it', async () => {
      await expect(store.certificates.insert(certificate('03', { notAfter: new Date(Number.NaN) }))).rejects.toThrow(
        RangeError,
      );
      expect(await store.certificates.bySerial('03')).toBeUndefined();
    });

    it('returns undefined for an unknown serial', async () => {
      expect(await store.certificates.bySerial('deadbeef')).toBeUndefined();
    });

    describe('list', () => {
      const start = Date.UTC(2025, 0, 1);
      beforeEach(async () => {
        // Inserted out of order; 'd2' and 'a2' share a notAfter to exercise the tie-break.
        for (const [serial, days] of [['c3', 3], ['d2', 2], ['e1', 1], ['a2', 2], ['b4', 4]] as const) {
          await store.certificates.insert(certificate(serial, { notAfter: new Date(start + days * DAY) }));
        }
      });

      it('orders by notAfter, then serial', async () => {
        expect((await store.certificates.list()).map((c) => c.serial)).toEqual(['e1', 'a2', 'd2', 'c3', 'b4']);
      });

      it('pages with limit and offset', async () => {
        expect((await store.certificates.list({ limit: 2 })).map((c) => c.serial)).toEqual(['e1', 'a2']);
        expect((await store.certificates.list({ limit: 2, offset: 2 })).map((c) => c.serial)).toEqual(['d2', 'c3']);
        expect((await store.certificates.list({ offset: 3 })).map((c) => c.serial)).toEqual(['c3', 'b4']);
        expect(await store.certificates.list({ limit: 0 })).toEqual([]);
      });

      it('filters by status and by expiry, strictly before the given time', async () => {
        await store.certificates.markRevoked('a2', 1, new Date(start));
        expect((await store.certificates.list({ status: 'revoked' })).map((c) => c.serial)).toEqual(['a2']);
        expect((await store.certificates.list({ status: 'valid' })).map((c) => c.serial)).toEqual([
          'e1',
          'd2',
          'c3',
          'b4',
        ]);
        const expiring = await store.certificates.list({ expiringBefore: new Date(start + 3 * DAY) });
        expect(expiring.map((c) => c.serial)).toEqual(['e1', 'a2', 'd2']);
        const validExpiring = await store.certificates.list({
          status: 'valid',
          expiringBefore: new Date(start + 3 * DAY),
          limit: 1,
          offset: 1,
        });
        expect(validExpiring.map((c) => c.serial)).toEqual(['d2']);
      });

      it('refuses negative or fractional paging values', async () => {
        await expect(store.certificates.list({ limit: -1 })).rejects.toThrow(RangeError);
        await expect(store.certificates.list({ offset: 1.5 })).rejects.toThrow(RangeError);
      });
    });

    describe('revocation', () => {
      const at = new Date(Date.UTC(2025, 0, 2, 12, 0, 0, 789));

      it('revokes once; a second revocation changes nothing', async () => {
        await store.certificates.insert(certificate('0c'));
        expect(await store.certificates.markRevoked('0c', 1, at)).toBe(true);
        expect(await store.certificates.markRevoked('0c', 4, new Date(at.getTime() + DAY))).toBe(false);
        expect(await store.certificates.bySerial('0c')).toMatchObject({
          status: 'revoked',
          revokedAt: at,
          revocationReason: 1,
        });
      });

      it('returns false for an unknown serial', async () => {
        expect(await store.certificates.markRevoked('404', 0, at)).toBe(false);
      });

      it('lets exactly one of several concurrent revocations win', async () => {
        await store.certificates.insert(certificate('0d'));
        const results = await Promise.all([0, 1, 3, 4, 5].map((reason) => store.certificates.markRevoked('0d', reason, at)));
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = [0, 1, 3, 4, 5][results.indexOf(true)];
        expect((await store.certificates.bySerial('0d'))?.revocationReason).toBe(winner);
      });

      it('lists revoked certificates for the CRL, oldest revocation first', async () => {
        for (const serial of ['10', '11', '12']) await store.certificates.insert(certificate(serial));
        await store.certificates.markRevoked('12', 4, new Date(at.getTime() + 1));
        await store.certificates.markRevoked('10', 1, at);
        expect(await store.certificates.revoked()).toEqual([
          { serial: '10', revokedAt: at, reason: 1 },
          { serial: '12', revokedAt: new Date(at.getTime() + 1), reason: 4 },
        ]);
      });

      it('returns an empty list when nothing is revoked', async () => {
        await store.certificates.insert(certificate('13'));
        expect(await store.certificates.revoked()).toEqual([]);
      });

      it('refuses, at the schema level, a revoked row without a time', async () => {
        await store.certificates.insert(certificate('14'));
        await expect(store.knex('certificates').where({ serial: '14' }).update({ status: 'revoked' })).rejects.toThrow();
      });
    });

    describe('migrations', () => {
      it('keeps data and applies nothing twice when reopened', async () => {
        await store.certificates.insert(certificate('20'));
        await store.close();
        store = await openStore(location.options);
        expect((await store.certificates.bySerial('20'))?.serial).toBe('20');
        const applied = await store.knex('knex_migrations').orderBy('id').pluck('name');
        expect(applied).toEqual(ALL_MIGRATIONS);
        const [, pending] = (await store.knex.migrate.list({ migrationSource })) as [unknown[], unknown[]];
        expect(pending).toEqual([]);
      });

      it('rolls back to an empty schema and migrates up again', async () => {
        await store.knex.migrate.rollback({ migrationSource }, true);
        expect(await store.knex.schema.hasTable('certificates')).toBe(false);
        await store.knex.migrate.latest({ migrationSource });
        await store.certificates.insert(certificate('21'));
        expect((await store.certificates.bySerial('21'))?.serial).toBe('21');
      });

      it('creates the indexes the queries rely on', async () => {
        const names =
          store.dialect === 'sqlite'
            ? await store.knex('sqlite_master').where({ type: 'index', tbl_name: 'certificates' }).pluck('name')
            : await store.knex('pg_indexes').where({ tablename: 'certificates' }).whereRaw('schemaname = current_schema()').pluck('indexname');
        expect(names).toEqual(
          expect.arrayContaining([
            'certificates_not_after_serial_idx',
            'certificates_status_idx',
            'certificates_spki_sha256_idx',
            'certificates_issuer_serial_idx',
          ]),
        );
      });
    });
  });
}

describe('store on sqlite: the file', () => {
  let dataDir: string;
  let store: Store | undefined;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wardcert-store-'));
  });

  afterEach(async () => {
    await store?.close();
    store = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  /** The single value a PRAGMA query returns (its column name does not always match the pragma). */
  async function pragma(name: string): Promise<unknown> {
    const rows = (await store!.knex.raw(`PRAGMA ${name}`)) as Record<string, unknown>[];
    return Object.values(rows[0] ?? {})[0];
  }

  it('lives at DATA/wardcert.db, readable by its owner only', async () => {
    store = await openStore({ dataDir: join(dataDir, 'nested') });
    await store.certificates.insert(certificate('30'));
    expect((await stat(join(dataDir, 'nested', 'wardcert.db'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, 'nested', 'wardcert.db-wal'))).mode & 0o777).toBe(0o600);
  });

  it('runs in WAL mode with foreign keys and a busy timeout', async () => {
    store = await openStore({ dataDir });
    expect(await pragma('journal_mode')).toBe('wal');
    expect(await pragma('foreign_keys')).toBe(1);
    expect(await pragma('busy_timeout')).toBe(5000);
  });

  it('enforces foreign keys', async () => {
    store = await openStore({ dataDir });
    await store.knex.schema.createTable('parent', (t) => t.integer('id').primary());
    await store.knex.schema.createTable('child', (t) => t.integer('parent_id').references('parent.id'));
    await expect(store.knex('child').insert({ parent_id: 1 })).rejects.toThrow(/FOREIGN KEY/);
  });

  it('accepts sqlite: URLs, which win over dataDir', async () => {
    const file = join(dataDir, 'elsewhere.db');
    store = await openStore({ url: `sqlite:${file}`, dataDir: join(dataDir, 'unused') });
    await store.certificates.insert(certificate('31'));
    await store.close();
    store = await openStore({ url: `sqlite://${file}` });
    expect((await store.certificates.bySerial('31'))?.serial).toBe('31');
    await expect(stat(join(dataDir, 'unused'))).rejects.toThrow();
  });
});

describe('store options', () => {
  it('needs a dataDir or a url', async () => {
    await expect(openStore({})).rejects.toThrow(/dataDir or a url/);
  });

  it('refuses a relative sqlite path', async () => {
    await expect(openStore({ url: 'sqlite:relative/wardcert.db' })).rejects.toThrow(/absolute path/);
  });

  it('refuses an unknown scheme without echoing the password', async () => {
    const attempt = openStore({ url: 'mysql://wardcert:s3cret@db.example/wardcert' });
    await expect(attempt).rejects.toThrow(/unsupported store URL scheme "mysql"/);
    await expect(attempt).rejects.not.toThrow(/s3cret/);
  });
});

describe.skipIf(!runPostgresTests)('store on postgres: several instances', () => {
  it('migrate once when they start together on an empty database', async () => {
    const { url, drop } = await createPostgresSchema();
    const opened = await Promise.allSettled([1, 2, 3, 4].map(() => openStore({ url })));
    const stores = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    try {
      expect(opened.filter((result) => result.status === 'rejected')).toEqual([]);
      await stores[0]!.certificates.insert(certificate('40'));
      expect((await stores[3]!.certificates.bySerial('40'))?.serial).toBe('40');
      expect(await stores[1]!.knex('knex_migrations').orderBy('id').pluck('name')).toEqual(ALL_MIGRATIONS);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await drop();
    }
  });

  it('recover the migration lock left behind by an instance that crashed mid-migration', async () => {
    const { url, drop } = await createPostgresSchema();
    try {
      const crashed = await openStore({ url });
      await crashed.knex('knex_migrations_lock').update({ is_locked: 1 });
      await crashed.close();
      const store = await openStore({ url });
      expect(await store.knex('knex_migrations_lock').pluck('is_locked')).toEqual([0]);
      await store.close();
    } finally {
      await drop();
    }
  });
});
