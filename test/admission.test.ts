import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAccount, newOrder } from '../agent/src/acme/api.js';
import { AcmeError } from '../agent/src/acme/errors.js';
import { obtainCertificate, type ChallengeSolver } from '../agent/src/acme/flows.js';
import { AcmeTransport, type Exchange } from '../agent/src/acme/transport.js';
import { request } from '../agent/src/acme/request.js';
import { makeCsr, newDeviceKey } from '../agent/src/keystore/device-key.js';
import { Admission } from '../ca-server/src/acme/admission.js';
import { startAcmeFixture, type AcmeFixture } from '../ca-server/test/helpers/acme-fixture.js';

/** Load shedding: past its bounds the CA answers 503 with Retry-After, and a client that waits gets through. */

let f: AcmeFixture;
const admission = new Admission({ maxValidationBacklog: 1, maxFinalizing: 1, maxInFlight: 2, retryAfterMs: 1000 });

beforeAll(async () => {
  f = await startAcmeFixture({ requireEab: false }, { admission });
});
afterAll(async () => {
  await f?.close();
});

async function account(o: { patienceMs?: number; onExchange?: (e: Exchange) => void } = {}): Promise<AcmeTransport> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const t = new AcmeTransport({ directoryUrl: f.directoryUrl, key: { privateKey: privateKey as CryptoKey, jwk: await exportJWK(publicKey), alg: 'ES256' }, ...o });
  await newAccount(t, {});
  return t;
}

const solver: ChallengeSolver = {
  type: 'http-01',
  present: async (_id, token, ka) => void f.responder.set(token, ka),
  cleanup: async (_id, token) => void f.responder.delete(token),
};

describe('admission control', () => {
  it('sheds new orders and challenge starts with 503, a rateLimited problem and a jittered Retry-After while validation is behind', async () => {
    const t = await account({ patienceMs: 0 });
    admission.backlogIs(1);
    try {
      const err = await newOrder(t, { identifiers: [{ type: 'ip', value: '127.0.0.2' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AcmeError);
      expect((err as AcmeError).status).toBe(503);
      expect((err as AcmeError).is('rateLimited')).toBe(true);
      expect((err as AcmeError).retryAfterMs).toBeGreaterThanOrEqual(1000);
      expect((err as AcmeError).retryAfterMs).toBeLessThanOrEqual(2000);
      const chall = await t.post(`${f.directoryUrl.replace('/directory', '/chall/nothing-here')}`, {}).catch((e: unknown) => e);
      expect((chall as AcmeError).status).toBe(503);
      // A shed client waits Retry-After seconds: its connection is closed so the CA holds no socket for it.
      const url = (await t.directory()).newOrder;
      const body = JSON.stringify(await t.sign(url, { identifiers: [{ type: 'ip', value: '127.0.0.2' }] }, false));
      const raw = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/jose+json' }, timeoutMs: 5000 });
      expect(raw.status).toBe(503);
      expect(raw.headers.connection).toBe('close');
    } finally {
      admission.backlogIs(0);
    }
    // Below the bound the same requests go through (the challenge id is unknown, so 404 now).
    expect((await newOrder(t, { identifiers: [{ type: 'ip', value: '127.0.0.2' }] })).status).toBe(201);
  });

  it('a client that honours Retry-After gets its certificate once the backlog drains', async () => {
    const seen: number[] = [];
    const t = await account({ onExchange: (e) => seen.push(e.status) });
    admission.backlogIs(1);
    const drained = setTimeout(() => admission.backlogIs(0), 300);
    const started = Date.now();
    try {
      const ids = [{ type: 'ip' as const, value: '127.0.0.3' }];
      const chain = await obtainCertificate(t, { identifiers: ids, csr: await makeCsr(await newDeviceKey('ecdsa-p256'), ids), solvers: [solver], pollMs: 50 });
      expect(chain).toContain('BEGIN CERTIFICATE');
    } finally {
      clearTimeout(drained);
    }
    expect(seen).toContain(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('past twice maxInFlight requests in progress it sheds even polls, and admits them again after', async () => {
    const t = await account({ patienceMs: 0 });
    const releases: (() => void)[] = [];
    const held = Array.from({ length: 4 }, () => admission.request(() => new Promise<void>((r) => releases.push(r))));
    try {
      const err = await t.post(t.kid!, undefined).catch((e: unknown) => e);
      expect((err as AcmeError).status).toBe(503);
      expect((err as AcmeError).message).toContain('requests are in progress');
    } finally {
      releases.forEach((r) => r());
      await Promise.all(held);
    }
    expect((await t.post(t.kid!, undefined)).status).toBe(200);
  });

  it('sheds while as many finalizations as allowed are in flight, and admits again after', async () => {
    const t = await account({ patienceMs: 0 });
    let release!: () => void;
    const held = admission.finalize(() => new Promise<void>((r) => (release = r)));
    try {
      const err = await newOrder(t, { identifiers: [{ type: 'ip', value: '127.0.0.4' }] }).catch((e: unknown) => e);
      expect((err as AcmeError).status).toBe(503);
      expect((err as AcmeError).message).toContain('finalizations');
    } finally {
      release();
      await held;
    }
    const ids = [{ type: 'ip' as const, value: '127.0.0.4' }];
    expect(await obtainCertificate(t, { identifiers: ids, csr: await makeCsr(await newDeviceKey('ecdsa-p256'), ids), solvers: [solver], pollMs: 50 })).toContain('BEGIN CERTIFICATE');
  });
});
