import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { certId } from '../src/acme/cert-id.js';
import { openStore, type CertificatePageQuery, type NewCertificate, type Store } from '../src/store/index.js';
import { createPostgresSchema, runPostgresTests } from './helpers/postgres.js';

const HOUR = 3_600_000;
const NOW = new Date(Date.UTC(2026, 5, 1, 12, 0, 0));
const KEY_ID = 'aa'.repeat(20);

function cert(serial: string, o: { hoursLeft: number; lifeHours?: number; device?: string; profile?: string; name?: string; replaces?: string; account?: string | null }): NewCertificate {
  const notAfter = new Date(NOW.getTime() + o.hoursLeft * HOUR);
  const name = o.name ?? `gw-${serial}.hospital.test`;
  return {
    serial,
    profile: o.profile ?? 'dicom-node',
    subject: `CN=${name}`,
    identifiers: [{ type: 'dns', value: name }],
    notBefore: new Date(notAfter.getTime() - (o.lifeHours ?? 72) * HOUR),
    notAfter,
    der: Uint8Array.from([0x30, 0]),
    issuerKeyId: KEY_ID,
    spkiSha256: serial.padStart(64, '0'),
    deviceId: o.device ?? null,
    accountId: o.account === undefined ? 'acct-1' : o.account,
    replaces: o.replaces ?? null,
  };
}

const query = (q: Partial<CertificatePageQuery> = {}): CertificatePageQuery => ({ sort: 'expiry', descending: false, offset: 0, limit: 50, ...q });

const backends = [
  { name: 'sqlite', enabled: true },
  { name: 'postgres', enabled: runPostgresTests },
] as const;

for (const backend of backends) {
  describe.skipIf(!backend.enabled)(`dashboard store on ${backend.name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;

    beforeEach(async () => {
      if (backend.name === 'sqlite') {
        const dir = await mkdtemp(join(tmpdir(), 'wardcert-admin-store-'));
        store = await openStore({ dataDir: dir });
        dispose = () => rm(dir, { recursive: true, force: true });
      } else {
        const schema = await createPostgresSchema();
        store = await openStore({ url: schema.url });
        dispose = schema.drop;
      }
      await store.certificates.insert(cert('01', { hoursLeft: 10, device: 'ct-1' }));
      await store.certificates.insert(cert('02', { hoursLeft: 100, device: 'ct-1', profile: 'hl7-endpoint' }));
      await store.certificates.insert(cert('03', { hoursLeft: 500, device: 'mr-2', lifeHours: 720, name: 'pacs_100%.hospital.test' }));
      await store.certificates.insert(cert('04', { hoursLeft: -5, device: 'mr-2' }));
      await store.certificates.insert(cert('05', { hoursLeft: 60 }));
      await store.certificates.markRevoked('05', 1, NOW);
    });

    afterEach(async () => {
      await store.close();
      await dispose();
    });

    it('counts certificates by state, each an index range', async () => {
      expect(await store.certificateSearch.countByState(NOW)).toEqual({ valid: 3, 'expiring-24h': 1, 'expiring-7d': 2, expired: 1, revoked: 1 });
    });

    it('filters by state, profile and device, and pages with the total of the whole set', async () => {
      const serials = async (q: Partial<CertificatePageQuery>) => (await store.certificateSearch.page(query(q), NOW)).items.map((c) => c.serial);
      expect(await serials({ state: 'expiring-7d' })).toEqual(['01', '02']);
      expect(await serials({ state: 'expired' })).toEqual(['04']);
      expect(await serials({ state: 'revoked' })).toEqual(['05']);
      expect(await serials({ profile: 'hl7-endpoint' })).toEqual(['02']);
      expect(await serials({ deviceId: 'mr-2' })).toEqual(['04', '03']);
      const page = await store.certificateSearch.page(query({ offset: 1, limit: 2 }), NOW);
      expect(page.total).toBe(5);
      expect(page.items.map((c) => c.serial)).toEqual(['01', '05']);
    });

    it('sorts by expiry, issue time, device and name in both directions', async () => {
      const serials = async (q: Partial<CertificatePageQuery>) => (await store.certificateSearch.page(query(q), NOW)).items.map((c) => c.serial);
      expect(await serials({ descending: true })).toEqual(['03', '02', '05', '01', '04']);
      expect(await serials({ sort: 'issued' })).toEqual(['01', '02', '03', '04', '05']);
      expect(await serials({ sort: 'name', descending: true })).toEqual(['03', '05', '04', '02', '01']);
      expect((await serials({ sort: 'device', deviceId: 'ct-1' }))).toEqual(['01', '02']);
    });

    it('searches names, device ids and serial prefixes, taking % and _ literally', async () => {
      const serials = async (search: string) => (await store.certificateSearch.page(query({ search }), NOW)).items.map((c) => c.serial);
      expect(await serials('gw-02')).toEqual(['02']);
      expect(await serials('GW-02')).toEqual(['02']);
      expect(await serials('mr-')).toEqual(['04', '03']);
      expect(await serials('05')).toEqual(['05']);
      expect(await serials('100%')).toEqual(['03']);
      expect(await serials('_')).toEqual(['03']);
      expect(await serials('%')).toEqual(['03']);
      expect(await serials('no-such-name')).toEqual([]);
      // Device ids match whatever the case, on PostgreSQL as on SQLite.
      expect(await serials('ct-1')).not.toEqual([]);
      expect(await serials('CT-1')).toEqual(await serials('ct-1'));
    });

    it('iterates the whole filtered set in order past one batch, and pages a search with many matches like one with few', async () => {
      const rows = Array.from({ length: 2100 }, (_, i) => cert(`a${i.toString(16).padStart(4, '0')}`, { hoursLeft: 200 + i, device: 'bulk' }));
      for (const row of rows) await store.certificates.insert(row);
      const seen: string[] = [];
      for await (const c of store.certificateSearch.each({ sort: 'expiry', descending: false, deviceId: 'bulk' }, NOW)) seen.push(c.serial);
      expect(seen).toHaveLength(2100);
      expect(seen[0]).toBe('a0000');
      expect(seen[2099]).toBe('a0833');
      // 2100 matches: the sort's index is walked; one match: the search index is used. Same answers.
      const many = await store.certificateSearch.page(query({ search: 'gw-a0', descending: true, offset: 10, limit: 3 }), NOW);
      expect(many.total).toBe(2100);
      expect(many.items.map((c) => c.serial)).toEqual(['a0829', 'a0828', 'a0827']);
      const one = await store.certificateSearch.page(query({ search: 'gw-a0828.' }), NOW);
      expect(one.total).toBe(1);
      expect(one.items.map((c) => c.serial)).toEqual(['a0828']);
    }, 120_000);

    it('buckets upcoming expiries, leaving out revoked and expired certificates', async () => {
      const buckets = await store.certificateSearch.expiryBuckets(NOW, new Date(NOW.getTime() + 7 * 24 * HOUR), 24 * HOUR);
      expect(buckets).toHaveLength(7);
      expect(buckets.map((b) => b.count)).toEqual([1, 0, 0, 0, 1, 0, 0]);
      expect(buckets[4]!.start).toEqual(new Date(NOW.getTime() + 4 * 24 * HOUR));
    });

    it('finds certificates past five sixths of their life and which of them were replaced', async () => {
      // 01 has 10 of its 72 hours left: past five sixths. 02 (100 h left) and 03 (500 of 720) are not.
      await store.certificates.insert(cert('0a', { hoursLeft: 2, account: null, profile: 'ca-tls' }));
      const due = await store.certificateSearch.pastRenewalPoint(NOW, 10);
      // 0a is as far along, but no ACME account holds it (the CA's own certificate): nothing renews it by ARI.
      expect(due.map((c) => c.serial)).toEqual(['01']);
      const id = certId(KEY_ID, '01');
      expect(await store.certificateSearch.replacedAmong([id])).toEqual(new Set());
      await store.certificates.insert(cert('06', { hoursLeft: 72, replaces: id }));
      expect(await store.certificateSearch.replacedAmong([id, certId(KEY_ID, '02')])).toEqual(new Set([id]));
    });

    it('keeps sessions by hash, touches, advances and purges them', async () => {
      const base = { userId: 'u1', stage: 'password' as const, csrfToken: 't', pendingTotpSecret: null, remoteAddress: '127.0.0.1', createdAt: NOW, lastSeenAt: NOW };
      await store.sessions.create({ ...base, idHash: 'h1' });
      await store.sessions.create({ ...base, idHash: 'h2', createdAt: new Date(NOW.getTime() - 9 * HOUR) });
      await store.sessions.create({ ...base, idHash: 'h3', userId: 'u2' });
      expect(await store.sessions.byIdHash('h1')).toEqual({ ...base, idHash: 'h1' });
      expect(await store.sessions.touch('h1', new Date(NOW.getTime() + 1000))).toBe(true);
      expect(await store.sessions.touch('nope', NOW)).toBe(false);
      expect(await store.sessions.advance('h1', 'enrol', 'JBSWY3DPEHPK3PXP')).toBe(true);
      expect(await store.sessions.byIdHash('h1')).toMatchObject({ stage: 'enrol', pendingTotpSecret: 'JBSWY3DPEHPK3PXP', lastSeenAt: new Date(NOW.getTime() + 1000) });
      expect(await store.sessions.advance('h1', 'active')).toBe(true);
      expect(await store.sessions.byIdHash('h1')).toMatchObject({ stage: 'active', pendingTotpSecret: null });
      expect(await store.sessions.purge(new Date(NOW.getTime() - 15 * 60_000), new Date(NOW.getTime() - 8 * HOUR))).toBe(1);
      expect(await store.sessions.byIdHash('h2')).toBeUndefined();
      expect(await store.sessions.deleteForUser('u2')).toBe(1);
      expect(await store.sessions.delete('h1')).toBe(true);
      expect(await store.sessions.delete('h1')).toBe(false);
    });
  });
}
