import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { startSweeper } from '../src/server/sweeper.js';
import { DuplicateSerialError, openStore, type NewCertificate, type Store } from '../src/store/index.js';
import { createPostgresSchema, runPostgresTests } from './helpers/postgres.js';

/**
 * Two instances' stores on one PostgreSQL database, each with its own connection pool, as two
 * `serve` processes have: every race below is fired at both at once, many times.
 */
let a: Store;
let b: Store;
let drop: () => Promise<void>;

beforeEach(async () => {
  if (!runPostgresTests) return;
  const schema = await createPostgresSchema();
  drop = schema.drop;
  [a, b] = await Promise.all([openStore({ url: schema.url }), openStore({ url: schema.url })]);
});

afterEach(async () => {
  if (!runPostgresTests) return;
  await Promise.all([a.close(), b.close()]);
  await drop();
});

const ROUNDS = 25;
const now = () => new Date();
const later = (ms: number) => new Date(Date.now() + ms);

/** An order with one authorization per name, each with one pending http-01 challenge. */
async function order(store: Store, names: string[]) {
  const account = await store.accounts.create(
    { jwk: { kty: 'EC' }, thumbprint: `tp-${Math.random()}`, contact: [], eabKid: null, deviceId: null, allowedIdentifiers: null },
    now(),
  );
  return store.orders.create(
    {
      accountId: account.id,
      identifiers: names.map((value) => ({ type: 'dns', value })),
      profile: 'dicom-node',
      notBefore: null,
      notAfter: null,
      expiresAt: later(3_600_000),
      replaces: null,
      challengeTypes: () => ['http-01'],
    },
    now(),
  );
}

/** An order whose every challenge was validated: ready to finalize. */
async function readyOrder(store: Store): Promise<string> {
  const { order: o, authorizations } = await order(store, ['gw.hospital.test']);
  for (const authz of authorizations) {
    await store.orders.startChallenge(authz.challenges[0]!.id);
    await store.orders.finishChallenge(authz.challenges[0]!.id, { status: 'valid', validatedAt: now() });
  }
  expect((await store.orders.byId(o.id))!.status).toBe('ready');
  return o.id;
}

function certificate(serial: string, orderId: string): NewCertificate {
  return {
    serial, profile: 'dicom-node', subject: 'CN=gw.hospital.test', identifiers: [{ type: 'dns', value: 'gw.hospital.test' }],
    notBefore: now(), notAfter: later(86_400_000), der: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]),
    issuerKeyId: 'ab', spkiSha256: 'cd', orderId,
  };
}

describe.skipIf(!runPostgresTests)('several instances on one PostgreSQL database: the store', () => {
  it('accepts a nonce from one instance at the other, once only, however the two race', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const nonce = await a.nonces.issue(now(), 60_000);
      const results = await Promise.all([a.nonces.consume(nonce, now()), b.nonces.consume(nonce, now()), b.nonces.consume(nonce, now())]);
      expect(results.filter(Boolean)).toHaveLength(1);
    }
    const fromB = await b.nonces.issue(now(), 60_000);
    expect(await a.nonces.consume(fromB, now())).toBe(true);
    expect(await b.nonces.consume(fromB, now())).toBe(false);
  });

  it('lets exactly one of two racing finalizations hold an order', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const id = await readyOrder(a);
      const tokens = await Promise.all([a.orders.beginFinalize(id, now(), later(10_000)), b.orders.beginFinalize(id, now(), later(10_000))]);
      expect(tokens.filter((t) => t !== undefined)).toHaveLength(1);
      expect((await b.orders.byId(id))!.status).toBe('processing');
    }
  });

  it('stores the certificate and the valid order together, only under the holding token', async () => {
    const id = await readyOrder(a);
    const token = (await a.orders.beginFinalize(id, now(), later(10_000)))!;
    expect(await b.orders.completeFinalize(id, 'someone-else', certificate('41', id))).toBe(false);
    expect(await a.certificates.bySerial('41')).toBeUndefined();
    expect(await a.orders.completeFinalize(id, token, certificate('42', id))).toBe(true);
    const done = (await b.orders.byId(id))!;
    expect(done).toMatchObject({ status: 'valid', certificateSerial: '42' });
    expect((await b.certificates.bySerial('42'))!.orderId).toBe(id);
    // A second completion (a late retry of the same request) changes nothing.
    expect(await a.orders.completeFinalize(id, token, certificate('43', id))).toBe(false);
    expect(await a.certificates.bySerial('43')).toBeUndefined();
  });

  it('hands back the order of an instance that died mid-finalization, and never lets it finish afterwards', async () => {
    const id = await readyOrder(a);
    // Times are passed in, so a loaded machine cannot make a deadline pass early.
    const t0 = Date.now();
    const dead = (await a.orders.beginFinalize(id, new Date(t0), new Date(t0 + 10_000)))!;
    expect(await b.orders.recoverStalled(new Date(t0 + 9_999), id)).toBe(0); // its deadline has not passed
    expect(await b.orders.beginFinalize(id, new Date(t0 + 9_999), later(10_000))).toBeUndefined();
    expect(await b.orders.recoverStalled(new Date(t0 + 10_001), id)).toBe(1);
    expect((await b.orders.byId(id))!.status).toBe('ready');
    const token = (await b.orders.beginFinalize(id, now(), later(10_000)))!;
    // The "dead" instance was only slow: its certificate is refused, and nothing of it is stored.
    expect(await a.orders.completeFinalize(id, dead, certificate('51', id))).toBe(false);
    expect(await b.orders.completeFinalize(id, token, certificate('52', id))).toBe(true);
    expect(await a.certificates.bySerial('51')).toBeUndefined();
    expect((await a.knex('certificates').where({ order_id: id })).map((r) => r.serial)).toEqual(['52']);
  });

  it('recovers stalled finalizations in the sweep, and an expired one ends invalid', async () => {
    const fresh = await readyOrder(a);
    const stale = await readyOrder(a);
    await a.orders.beginFinalize(fresh, now(), later(10_000));
    await a.orders.beginFinalize(stale, now(), later(-1));
    await a.knex('orders').where({ id: stale }).update({ expires_at: Date.now() - 1 });
    expect(await b.orders.recoverStalled(now())).toBe(1);
    expect(await b.orders.expire(now())).toBe(1);
    expect((await a.orders.byId(stale))!).toMatchObject({ status: 'invalid', error: { detail: expect.stringContaining('expired') } });
    expect((await a.orders.byId(fresh))!.status).toBe('processing');
  });

  it('refuses a serial already stored, leaving the order held for a second signing', async () => {
    await a.certificates.insert(certificate('61', 'another-order'));
    const id = await readyOrder(a);
    const token = (await a.orders.beginFinalize(id, now(), later(10_000)))!;
    await expect(b.orders.completeFinalize(id, token, certificate('61', id))).rejects.toBeInstanceOf(DuplicateSerialError);
    expect((await a.orders.byId(id))!).toMatchObject({ status: 'processing', certificateSerial: null });
    expect((await a.certificates.bySerial('61'))!.orderId).toBe('another-order');
    expect(await b.orders.completeFinalize(id, token, certificate('62', id))).toBe(true);
  });

  it('gives each challenge to exactly one validator, and a dead one\'s to the other when its lease runs out', async () => {
    const challenges: string[] = [];
    for (let i = 0; i < 40; i++) {
      const { authorizations } = await order(a, [`d${i}.hospital.test`]);
      const id = authorizations[0]!.challenges[0]!.id;
      expect(await a.orders.startChallenge(id)).toBe(true);
      challenges.push(id);
    }
    const t0 = Date.now();
    const [fromA, fromB] = await Promise.all([a.orders.claimChallenges(new Date(t0), 1000, 30), b.orders.claimChallenges(new Date(t0), 1000, 30)]);
    const ids = [...fromA, ...fromB].map((w) => w.challenge.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual([...challenges].sort());
    // Both "died": nothing is handed out again before the leases run out, everything after.
    expect(await b.orders.claimChallenges(new Date(t0 + 999), 1000, 100)).toHaveLength(0);
    expect(await b.orders.claimChallenges(new Date(t0 + 1001), 60_000, 100)).toHaveLength(40);
  });

  it('makes an order ready when its authorizations finish at the same moment on two instances', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const { order: o, authorizations } = await order(a, ['x.hospital.test', 'y.hospital.test']);
      const [cx, cy] = authorizations.map((z) => z.challenges[0]!.id) as [string, string];
      await Promise.all([a.orders.startChallenge(cx), a.orders.startChallenge(cy)]);
      await Promise.all([
        a.orders.finishChallenge(cx, { status: 'valid', validatedAt: now() }),
        b.orders.finishChallenge(cy, { status: 'valid', validatedAt: now() }),
      ]);
      expect((await a.orders.byId(o.id))!.status).toBe('ready');
    }
  });

  it('gives a named lease to one instance at a time, and to another once it runs out', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const tokens = await Promise.all([a.leases.acquire(`l${i}`, now(), later(10_000)), b.leases.acquire(`l${i}`, now(), later(10_000))]);
      expect(tokens.filter((t) => t !== undefined)).toHaveLength(1);
    }
    const t0 = Date.now();
    const held = (await a.leases.acquire('short', new Date(t0), new Date(t0 + 100)))!;
    expect(await b.leases.acquire('short', new Date(t0 + 99), new Date(t0 + 199))).toBeUndefined();
    await b.leases.release('short', 'not-the-token');
    expect(await b.leases.acquire('short', new Date(t0 + 99), new Date(t0 + 199))).toBeUndefined();
    const taken = await b.leases.acquire('short', new Date(t0 + 101), later(10_000));
    expect(taken).toBeDefined();
    await a.leases.release('short', held); // the dead holder's late release leaves the new lease alone
    expect(await a.leases.acquire('short', now(), later(10_000))).toBeUndefined();
    await b.leases.release('short', taken!);
    expect(await a.leases.acquire('short', now(), later(10_000))).toBeDefined();
  });

  it('sweeps on one instance at a time, and on the other once a dead sweeper\'s lease runs out', { timeout: 30_000 }, async () => {
    const stale = await readyOrder(a);
    await a.orders.beginFinalize(stale, now(), later(-1));
    const expired = (await order(a, ['old.hospital.test'])).order.id;
    await a.knex('orders').where({ id: expired }).update({ expires_at: Date.now() - 1 });
    // An instance that died while sweeping: its lease holds the others off until it runs out.
    expect(await a.leases.acquire('sweep', now(), later(3000))).toBeDefined();
    const logger = pino({ level: 'silent' });
    const stops = [startSweeper({ store: a, logger, everyMs: 100 }), startSweeper({ store: b, logger, everyMs: 100 })];
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect((await a.orders.byId(stale))!.status).toBe('processing');
      expect((await a.orders.byId(expired))!.status).toBe('pending');
      const deadline = Date.now() + 15_000;
      while ((await a.orders.byId(expired))!.status === 'pending' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect((await a.orders.byId(stale))!.status).toBe('ready');
      expect((await a.orders.byId(expired))!.status).toBe('invalid');
    } finally {
      stops.forEach((stop) => stop());
    }
  });
});
