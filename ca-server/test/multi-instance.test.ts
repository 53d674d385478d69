import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admission } from '../src/acme/admission.js';
import { issueAndRecord } from '../src/ca/issue-and-record.js';
import { DuplicateSerialError, type NewCertificate } from '../src/store/index.js';
import { eabJws, TestAcmeClient, type AcmeResponse } from './helpers/acme-client.js';
import { deviceCsr, startAcmeFixture, type AcmeFixture } from './helpers/acme-fixture.js';
import { createPostgresSchema, runPostgresTests } from './helpers/postgres.js';

/**
 * Two instances of the real ACME app, each with its own store pool and validator, on one
 * PostgreSQL database and one CA, handing out the same URLs as they would behind a balancer.
 */
let a: AcmeFixture;
let b: AcmeFixture;
let drop: (() => Promise<void>) | undefined;
const ERR = 'urn:ietf:params:acme:error:';

beforeAll(async () => {
  if (!runPostgresTests) return;
  const schema = await createPostgresSchema();
  drop = schema.drop;
  a = await startAcmeFixture({}, { storeUrl: schema.url });
  b = await startAcmeFixture({}, { sibling: a });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
  await drop?.();
});

/** Sends a request for one of the shared URLs to the given instance, as a balancer would. */
function via(instance: AcmeFixture, c: TestAcmeClient, url: string, payload: unknown, o: { nonce?: string } = {}): Promise<AcmeResponse> {
  return c.post(url.replace(a.origin, instance.origin), payload, { headerUrl: url, ...o });
}

async function registered(): Promise<TestAcmeClient> {
  const c = await TestAcmeClient.create(a.directoryUrl);
  const res = await c.register(await a.store.eab.create({ identifiers: [] }, new Date()));
  expect(res.status).toBe(201);
  return c;
}

async function until(fn: () => Promise<AcmeResponse>, done: (r: AcmeResponse) => boolean, ms = 10_000): Promise<AcmeResponse> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await fn();
    if (done(r) || Date.now() > end) return r;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** An order for one device address, validated through `validateAt`: ready to finalize. */
async function readyOrder(c: TestAcmeClient, address: string, validateAt = b) {
  const identifiers = [{ type: 'ip' as const, value: address }];
  const order = await via(a, c, c.directory.newOrder, { identifiers });
  expect(order.status, JSON.stringify(order.body)).toBe(201);
  const authz = await via(validateAt, c, order.body.authorizations[0], undefined);
  const http = authz.body.challenges.find((ch: { type: string }) => ch.type === 'http-01');
  a.responder.set(http.token, `${http.token}.${await c.thumbprint()}`);
  expect((await via(validateAt, c, http.url, {})).status).toBe(200);
  const url = order.headers.get('location')!;
  const ready = await until(() => via(a, c, url, undefined), (r) => r.body.status !== 'pending');
  expect(ready.body.status).toBe('ready');
  return { url, finalize: order.body.finalize as string, csr: (await deviceCsr(identifiers)).csr };
}

const certificatesOf = (orderUrl: string) => a.store.knex('certificates').where({ order_id: orderUrl.split('/').pop() });

describe.skipIf(!runPostgresTests)('two ACME instances on one PostgreSQL database', () => {
  it('accepts a nonce from one instance at the other, and refuses its replay at either', async () => {
    const c = await registered();
    const nonce = await c.freshNonce(); // from A
    const account = c.kid!;
    expect((await via(b, c, account, undefined, { nonce })).status).toBe(200);
    for (const instance of [a, b]) {
      const replay = await via(instance, c, account, undefined, { nonce });
      expect(replay.status).toBe(400);
      expect(replay.body.type).toBe(`${ERR}badNonce`);
    }
  });

  it('gives one account to one key registering at both instances at once, never an error', async () => {
    for (let i = 0; i < 10; i++) {
      const c = await TestAcmeClient.create(a.directoryUrl);
      const eab = await a.store.eab.create({ identifiers: [] }, new Date());
      const payload = async () => ({ termsOfServiceAgreed: true, externalAccountBinding: await eabJws(eab, c.jwk, c.directory.newAccount) });
      const [na, nb] = [await c.freshNonce(), await c.freshNonce()];
      const [pa, pb] = [await payload(), await payload()];
      const answers = await Promise.all([
        c.post(c.directory.newAccount, pa, { useJwk: true, nonce: na }),
        c.post(c.directory.newAccount.replace(a.origin, b.origin), pb, { useJwk: true, nonce: nb, headerUrl: c.directory.newAccount }),
      ]);
      expect(answers.map((r) => r.status).sort(), JSON.stringify(answers.map((r) => r.body))).toEqual([200, 201]);
      expect(new Set(answers.map((r) => r.headers.get('location'))).size).toBe(1);
    }
  });

  it('finishes on one instance an order started on the other, and serves its certificate from both', async () => {
    const c = await registered();
    const order = await readyOrder(c, '127.0.0.2');
    const fin = await via(b, c, order.finalize, { csr: order.csr });
    expect(fin.status, JSON.stringify(fin.body)).toBe(200);
    expect(fin.body.status).toBe('valid');
    for (const instance of [a, b]) {
      const chain = await via(instance, c, fin.body.certificate, undefined);
      expect(chain.status).toBe(200);
      expect(chain.body).toContain('BEGIN CERTIFICATE');
    }
  });

  it('issues exactly one certificate when both instances get the same finalize at once, every time', async () => {
    const c = await registered();
    for (let i = 0; i < 8; i++) {
      const order = await readyOrder(c, `127.0.0.${2 + (i % 8)}`, i % 2 ? a : b);
      // A nonce each, fetched first, so the two requests really leave at the same moment.
      const [na, nb] = [await c.freshNonce(), await c.freshNonce()];
      const [ra, rb] = await Promise.all([
        via(a, c, order.finalize, { csr: order.csr }, { nonce: na }),
        via(b, c, order.finalize, { csr: order.csr }, { nonce: nb }),
      ]);
      const statuses = [ra.status, rb.status].sort();
      expect(statuses, JSON.stringify([ra.body, rb.body])).toEqual([200, 403]);
      expect([ra, rb].find((r) => r.status === 403)!.body.type).toBe(`${ERR}orderNotReady`);
      expect(await certificatesOf(order.url)).toHaveLength(1);
      const settled = await via(b, c, order.url, undefined);
      expect(settled.body.status).toBe('valid');
    }
  });

  it('hands back an order whose finalizing instance died, so the retry elsewhere gets the certificate', async () => {
    const c = await registered();
    const order = await readyOrder(c, '127.0.0.3');
    const id = order.url.split('/').pop()!;
    // What a SIGKILL between 'processing' and 'valid' leaves: the order held, with a short deadline.
    expect(await a.store.orders.beginFinalize(id, new Date(), new Date(Date.now() + 4000))).toBeDefined();
    const early = await via(b, c, order.finalize, { csr: order.csr });
    expect(early.status).toBe(403);
    expect(early.body.type).toBe(`${ERR}orderNotReady`);
    const polling = await via(b, c, order.url, undefined);
    expect(polling.body.status).toBe('processing');
    expect(polling.headers.get('retry-after')).toBe('1');
    const ready = await until(() => via(b, c, order.url, undefined), (r) => r.body.status !== 'processing', 15_000);
    expect(ready.body.status).toBe('ready');
    const fin = await via(b, c, order.finalize, { csr: order.csr });
    expect(fin.status, JSON.stringify(fin.body)).toBe(200);
    expect(fin.body.status).toBe('valid');
    expect(await certificatesOf(order.url)).toHaveLength(1);
  });

  it('ends a stalled order invalid, with a clear problem, once it expired', async () => {
    const c = await registered();
    const order = await readyOrder(c, '127.0.0.4');
    const id = order.url.split('/').pop()!;
    await a.store.orders.beginFinalize(id, new Date(), new Date(Date.now() - 1));
    await a.store.knex('orders').where({ id }).update({ expires_at: Date.now() - 1 });
    const seen = await via(b, c, order.url, undefined);
    expect(seen.body.status).toBe('invalid');
    expect(seen.body.error.detail).toContain('expired');
    const fin = await via(a, c, order.finalize, { csr: order.csr });
    expect(fin.status).toBe(403);
    expect(fin.body.type).toBe(`${ERR}orderNotReady`);
  });

  it('sheds at one instance with 503 and Retry-After, and the retry lands at the other with that answer\'s nonce', async () => {
    // A third instance that sheds every new order, challenge start and finalization.
    const busy = await startAcmeFixture({}, { sibling: a, admission: new Admission({ maxValidationBacklog: 0, maxFinalizing: 0, retryAfterMs: 1000 }) });
    try {
      const c = await registered();
      const identifiers = [{ type: 'ip', value: '127.0.0.7' }];
      const shed = await via(busy, c, c.directory.newOrder, { identifiers });
      expect(shed.status).toBe(503);
      expect(shed.body.type).toBe(`${ERR}rateLimited`);
      expect(Number(shed.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(shed.headers.get('replay-nonce')).toBeTruthy();
      const retried = await via(b, c, c.directory.newOrder, { identifiers }); // signed with the 503's nonce
      expect(retried.status, JSON.stringify(retried.body)).toBe(201);

      const order = await readyOrder(c, '127.0.0.7');
      expect((await via(busy, c, order.finalize, { csr: order.csr })).status).toBe(503);
      expect((await via(a, c, order.url, undefined)).body.status).toBe('ready'); // the shed request changed nothing
      const fin = await via(a, c, order.finalize, { csr: order.csr });
      expect(fin.status, JSON.stringify(fin.body)).toBe(200);
      expect(await certificatesOf(order.url)).toHaveLength(1);
    } finally {
      await busy.close();
    }
  });

  it('signs again under a fresh serial when the first one is already stored, never handing out a duplicate', async () => {
    const { csr } = await deviceCsr([{ type: 'dns', value: 'serial.hospital.test' }]);
    const { checkCsr } = await import('../src/pki/csr.js');
    const request = await checkCsr(new Uint8Array(Buffer.from(csr, 'base64url')));
    const tried: string[] = [];
    const leaf = await issueAndRecord(b.store, { ca: b.acme.ca, profile: b.acme.profiles.get('dicom-node')!, request }, {}, async (c: NewCertificate) => {
      tried.push(c.serial);
      // The first serial is taken by the other instance just before this one stores it.
      if (tried.length === 1) await a.store.certificates.insert({ ...c, subject: 'CN=the other one' });
      await b.store.certificates.insert(c);
    });
    expect(tried).toHaveLength(2);
    expect(leaf.serial).toBe(tried[1]);
    expect((await a.store.certificates.bySerial(tried[0]!))!.subject).toBe('CN=the other one');
    expect((await a.store.certificates.bySerial(leaf.serial))!.subject).toContain('serial.hospital.test');
    // A store that keeps refusing ends in the typed error, not a loop.
    await expect(
      issueAndRecord(b.store, { ca: b.acme.ca, profile: b.acme.profiles.get('dicom-node')!, request }, {}, async (c) => {
        throw new DuplicateSerialError(c.serial);
      }),
    ).rejects.toBeInstanceOf(DuplicateSerialError);
  });
});
