import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { entryHash, GENESIS_HASH } from '../src/audit/chain-hash.js';
import type { AuditEvent } from '../src/audit/event.js';
import { createAuditRecorder, type StoreAuditRecorder } from '../src/audit/recorder.js';
import { verifyAuditTrail } from '../src/audit/verify.js';
import { caSignatureCheck, signWithCa, type CaSignatureCheck } from '../src/pki/audit-signature.js';
import { loadIssuingCa, type IssuingCa } from '../src/pki/issuing-ca.js';
import { openStore, type Store, type StoreOptions } from '../src/store/index.js';
import { FIXTURE_PASSPHRASE, makeCaDataDir } from './helpers/ca-dir.js';
import { runCa } from './helpers/cli.js';
import { createPostgresSchema, runPostgresTests } from './helpers/postgres.js';

let caDir: string;
let otherCaDir: string;
let ca: IssuingCa;
let otherCa: IssuingCa;
let check: CaSignatureCheck;

beforeAll(async () => {
  caDir = await mkdtemp(join(tmpdir(), 'wardcert-audit-ca-'));
  otherCaDir = await mkdtemp(join(tmpdir(), 'wardcert-audit-other-'));
  await makeCaDataDir(caDir);
  await makeCaDataDir(otherCaDir, 'CN=Somebody Else CA');
  ca = await loadIssuingCa({ dataDir: caDir, passphrase: FIXTURE_PASSPHRASE });
  otherCa = await loadIssuingCa({ dataDir: otherCaDir, passphrase: FIXTURE_PASSPHRASE });
  check = await caSignatureCheck(caDir);
});
afterAll(async () => {
  await Promise.all([caDir, otherCaDir].map((d) => d && rm(d, { recursive: true, force: true })));
});

const backends = [
  {
    name: 'sqlite',
    enabled: true,
    async location() {
      // The store lives in the CA's data directory, as in production, so `audit verify --data` finds both.
      const file = join(caDir, `audit-${Math.random().toString(36).slice(2)}.db`);
      return { options: { url: `sqlite:${file}` } as StoreOptions, cli: ['--data', caDir, '--database', `sqlite:${file}`], dispose: () => rm(file, { force: true }) };
    },
  },
  {
    name: 'postgres',
    enabled: runPostgresTests,
    async location() {
      const { url, drop } = await createPostgresSchema();
      return { options: { url } as StoreOptions, cli: ['--data', caDir, '--database', url], dispose: drop };
    },
  },
] as const;

function event(i: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    type: i % 3 === 0 ? 'order.created' : 'certificate.issued',
    outcome: i % 5 === 0 ? 'failure' : 'success',
    actor: { kind: 'account', id: `acct-${i % 2}`, name: `device-${i % 2}` },
    source: '127.0.0.1',
    subject: { kind: 'certificate', id: `serial-${i}` },
    details: { profile: 'dicom-node', identifiers: [`gw${i}.hospital.test`] },
    ...overrides,
  };
}

/** What an attacker with database access does after editing rows: recompute every hash from `seq` on. */
async function rechainFrom(db: Knex, seq: number): Promise<void> {
  const rows = await db('audit_entries').where('seq', '>=', seq).orderBy('seq');
  let prev = seq === 1 ? GENESIS_HASH : (await db('audit_entries').where({ seq: seq - 1 }).first()).hash;
  for (const row of rows) {
    const hash = entryHash({
      seq: Number(row.seq), atMs: Number(row.at), type: row.type, outcome: row.outcome, actorKind: row.actor_kind, actorId: row.actor_id,
      actorName: row.actor_name, source: row.source, subjectKind: row.subject_kind, subjectId: row.subject_id, details: row.details, prevHash: prev,
    });
    await db('audit_entries').where({ seq: row.seq }).update({ prev_hash: prev, hash });
    prev = hash;
  }
  await db('audit_head').where({ id: 1 }).update({ hash: prev });
}

for (const backend of backends) {
  describe.skipIf(!backend.enabled)(`audit trail on ${backend.name}`, () => {
    let location: Awaited<ReturnType<(typeof backend)['location']>>;
    let store: Store;
    let recorder: StoreAuditRecorder;
    const cleanups: (() => Promise<unknown>)[] = [];

    beforeEach(async () => {
      location = await backend.location();
      cleanups.push(location.dispose);
      store = await openStore(location.options);
      cleanups.push(() => store.close());
      recorder = createAuditRecorder({ store, checkpoints: { ca, every: 10 } });
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** 25 events, a checkpoint after every 10 entries and one at the end: 28 entries. */
    const fill = async () => {
      for (let i = 1; i <= 25; i++) await recorder.record(event(i));
      await recorder.checkpointNow();
    };

    it('chains every entry to the one before and signs checkpoints that verify', async () => {
      await fill();
      const chain = await store.audit.chain(0, 100);
      expect(chain.map((e) => e.seq)).toEqual(Array.from({ length: 28 }, (_, i) => i + 1));
      expect(chain[0]!.prevHash).toBe(GENESIS_HASH);
      for (let i = 1; i < chain.length; i++) expect(chain[i]!.prevHash).toBe(chain[i - 1]!.hash);
      expect(chain.filter((e) => e.type === 'audit.checkpoint').map((e) => e.seq)).toEqual([11, 22, 28]);
      expect(await verifyAuditTrail(store.audit, check)).toEqual({ ok: true, entries: 28, checkpoints: 3, lastCheckpointSeq: 28 });
      // A second checkpointNow with nothing new adds nothing.
      await recorder.checkpointNow();
      expect((await store.audit.head()).seq).toBe(28);
    });

    it('verifies an empty trail', async () => {
      expect(await verifyAuditTrail(store.audit, check)).toEqual({ ok: true, entries: 0, checkpoints: 0, lastCheckpointSeq: 0 });
    });

    it('names an altered entry', async () => {
      await fill();
      await store.knex('audit_entries').where({ seq: 5 }).update({ details: JSON.stringify({ profile: 'ca-tls' }) });
      expect(await verifyAuditTrail(store.audit, check)).toEqual({ ok: false, seq: 5, problem: expect.stringContaining('does not match its hash') });
      await store.knex('audit_entries').where({ seq: 5 }).update({ source: '10.0.0.66' });
      expect(await verifyAuditTrail(store.audit, check)).toMatchObject({ ok: false, seq: 5 });
    });

    it('names an entry altered and re-hashed, and catches re-chaining everything after it at the next checkpoint', async () => {
      await fill();
      await store.knex('audit_entries').where({ seq: 5 }).update({ actor_id: 'someone-else' });
      const e5 = (await store.audit.chain(4, 1))[0]!;
      await store.knex('audit_entries').where({ seq: 5 }).update({ hash: entryHash({ ...e5, actorId: 'someone-else' }) });
      expect(await verifyAuditTrail(store.audit, check)).toEqual({ ok: false, seq: 5, problem: expect.stringContaining('altered and re-hashed') });
      await rechainFrom(store.knex, 5);
      expect(await verifyAuditTrail(store.audit, check)).toEqual({ ok: false, seq: 11, problem: expect.stringContaining('not the entry before it') });
    });

    it('names a removed entry, and a removed tail', async () => {
      await fill();
      await store.knex('audit_entries').where({ seq: 7 }).delete();
      expect(await verifyAuditTrail(store.audit, check)).toEqual({ ok: false, seq: 7, problem: 'missing: entry 8 follows entry 6 (removed)' });
    });

    it('names the start of a removed tail', async () => {
      await fill();
      await store.knex('audit_entries').where('seq', '>', 26).delete();
      expect(await verifyAuditTrail(store.audit, check)).toEqual({ ok: false, seq: 27, problem: expect.stringContaining('chain head is entry 28') });
    });

    it('names reordered entries', async () => {
      await fill();
      const db = store.knex;
      await db('audit_entries').where({ seq: 3 }).update({ seq: 1000 });
      await db('audit_entries').where({ seq: 4 }).update({ seq: 3 });
      await db('audit_entries').where({ seq: 1000 }).update({ seq: 4 });
      expect(await verifyAuditTrail(store.audit, check)).toEqual({ ok: false, seq: 3, problem: expect.stringContaining('moved from another position') });
    });

    it('names a forged checkpoint: signed by another key, or a signature that is not the CA key', async () => {
      await fill();
      const cp = await store.knex('audit_entries').where({ seq: 11 }).first();
      const details = JSON.parse(cp.details);
      const forged = await signWithCa(otherCa, new TextEncoder().encode(`wardcert-audit-checkpoint\n10\n${details.headHash}`));
      await store.knex('audit_entries').where({ seq: 11 }).update({ details: JSON.stringify({ ...details, ...forged }) });
      await rechainFrom(store.knex, 11);
      expect(await verifyAuditTrail(store.audit, check)).toEqual({ ok: false, seq: 11, problem: expect.stringMatching(/checkpoint signature is wrong: signed by key [0-9a-f]+, which no CA certificate/) });
      // The CA's key id with somebody else's signature bytes.
      await store.knex('audit_entries').where({ seq: 11 }).update({ details: JSON.stringify({ ...details, signature: forged.signature }) });
      await rechainFrom(store.knex, 11);
      expect(await verifyAuditTrail(store.audit, check)).toEqual({ ok: false, seq: 11, problem: expect.stringContaining('does not verify against "CN=Fixture Device CA"') });
    });

    it('lists newest first, by time range, type, actor, outcome and subject, in pages', async () => {
      for (let i = 1; i <= 25; i++) await recorder.record(event(i));
      const all = await store.audit.list({ limit: 1000 });
      expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 27 }, (_, i) => 27 - i));
      const orders = await store.audit.list({ types: ['order.created'] });
      expect(orders).toHaveLength(8);
      expect(orders.every((e) => e.type === 'order.created')).toBe(true);
      expect((await store.audit.list({ actor: 'device-1', outcome: 'failure' })).map((e) => e.subject?.id)).toEqual(['serial-25', 'serial-15', 'serial-5']);
      expect((await store.audit.list({ subject: 'serial-7' }))[0]).toMatchObject({ type: 'certificate.issued', actor: { kind: 'account', id: 'acct-1', name: 'device-1' }, details: { profile: 'dicom-node', identifiers: ['gw7.hospital.test'] } });
      const first = await store.audit.list({ limit: 10 });
      const second = await store.audit.list({ limit: 10, beforeSeq: first.at(-1)!.seq });
      expect(second.map((e) => e.seq)).toEqual([17, 16, 15, 14, 13, 12, 11, 10, 9, 8]);
      const at = all.find((e) => e.seq === 10)!.at;
      expect((await store.audit.list({ to: at, limit: 1000 })).every((e) => e.at < at)).toBe(true);
      expect((await store.audit.list({ from: new Date(Date.now() + 60_000) }))).toEqual([]);
      await expect(store.audit.list({ limit: -1 })).rejects.toThrow(RangeError);
    });

    it('bounds what one event may carry', async () => {
      await recorder.record(event(1, {
        actor: { kind: 'account', id: 'x'.repeat(10_000) },
        details: { error: 'e'.repeat(100_000), identifiers: Array.from({ length: 500 }, (_, i) => `n${i}.hospital.test`), ...Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i])) },
      }));
      const [stored] = await store.audit.list();
      expect(stored!.actor.id.length).toBeLessThanOrEqual(256);
      expect(Buffer.byteLength(JSON.stringify(stored!.details))).toBeLessThanOrEqual(4096);
      expect(stored!.details!.truncated).toBe(true);
      expect((stored!.details!.identifiers as string[]).at(-1)).toBe('... 468 more');
    });

    it('keeps one chain when two instances append at once', async () => {
      const second = await openStore(location.options);
      cleanups.push(() => second.close());
      const other = createAuditRecorder({ store: second, checkpoints: { ca, every: 10 } });
      await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? recorder : other).record(event(i))));
      const result = await verifyAuditTrail(store.audit, check);
      expect(result).toMatchObject({ ok: true, checkpoints: 6 });
      expect(result.ok && result.entries).toBe(66);
    });

    it('wardcert-ca audit verify exits 0 with a summary, and non-zero naming the first bad entry', async () => {
      await fill();
      const good = await runCa(['audit', 'verify', ...location.cli]);
      expect(good).toMatchObject({ code: 0, stderr: '' });
      expect(good.stdout).toBe('audit trail intact: 28 entries, 3 signed checkpoint(s) (newest at entry 28)\n');
      const listed = await runCa(['audit', 'list', ...location.cli, '--type', 'audit.checkpoint', '--json']);
      expect(listed.stdout.trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual([28, 22, 11]);
      await store.knex('audit_entries').where({ seq: 13 }).delete();
      const broken = await runCa(['audit', 'verify', ...location.cli]);
      expect(broken.code).not.toBe(0);
      expect(broken.stderr).toBe('wardcert-ca: audit trail broken at entry 13: missing: entry 14 follows entry 12 (removed)\n');
      const noCerts = await runCa(['audit', 'verify', '--database', location.cli.at(-1)!]);
      expect(noCerts.code).not.toBe(0);
      expect(noCerts.stderr).toContain('needs --data DIR or --config FILE');
    });
  });
}
