import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAccount, newOrder, renewalInfo } from '../agent/src/acme/api.js';
import { ariCertId } from '../agent/src/acme/cert-id.js';
import { AcmeError } from '../agent/src/acme/errors.js';
import { obtainCertificate } from '../agent/src/acme/flows.js';
import { http01Solver } from '../agent/src/acme/http01-solver.js';
import { AcmeTransport, type AccountKey } from '../agent/src/acme/transport.js';
import { deviceCsr, startAcmeFixture, type AcmeFixture } from '../ca-server/test/helpers/acme-fixture.js';

let f: AcmeFixture;

beforeAll(async () => {
  f = await startAcmeFixture();
});
afterAll(async () => {
  await f?.close();
});

async function accountKey(): Promise<AccountKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey: privateKey as CryptoKey, jwk: await exportJWK(publicKey), alg: 'ES256' };
}

describe("the agent's ACME client against the Wardcert ACME server", () => {
  it('registers with EAB, orders, answers http-01 itself, and reads the ARI window', async () => {
    const t = new AcmeTransport({ directoryUrl: f.directoryUrl, key: await accountKey() });
    const eab = await f.store.eab.create({ identifiers: [] }, new Date());
    const account = await newAccount(t, { contact: ['mailto:pacs-admin@hospital.test'], eab });
    expect(account.status).toBe(201);
    expect(t.kid).toMatch(/\/acme\/acct\//);

    // The fixture's validator checks http-01 on its own responder port; the agent's solver serves
    // through it by filling the same answers map.
    const solver = http01Solver({ host: '127.0.0.1', port: 0 });
    const bridged = { ...solver, present: async (id: any, token: string, ka: string) => { f.responder.set(token, ka); await solver.present(id, token, ka); } };
    const ids = [{ type: 'ip' as const, value: '127.0.0.1' }];
    const { csr } = await deviceCsr(ids);
    const chain = await obtainCertificate(t, { identifiers: ids, csr: new Uint8Array(Buffer.from(csr, 'base64url')), solvers: [bridged], timeoutMs: 30_000 });
    expect(solver.address()).toBeUndefined(); // the solver's server is closed once no challenge is out
    const leaf = new x509.X509Certificate(chain.split(/(?<=-----END CERTIFICATE-----)\n/)[0]!);
    const certId = ariCertId(leaf)!;
    const ari = await renewalInfo(t, certId);
    expect(Date.parse(ari!.body.suggestedWindow.start)).toBeGreaterThan(leaf.notBefore.getTime());
  });

  it('retries a badNonce by itself and surfaces other problems as AcmeError', async () => {
    const t = new AcmeTransport({ directoryUrl: f.directoryUrl, key: await accountKey() });
    const dir = await t.directory();
    // Poison the kept nonce: the server answers badNonce, the transport retries with the fresh one it got.
    (t as unknown as { nonce: string }).nonce = 'bm90LWEtbm9uY2U';
    const err = await newAccount(t, { contact: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AcmeError);
    expect((err as AcmeError).is('externalAccountRequired')).toBe(true);
    expect(dir.meta?.externalAccountRequired).toBe(true);
  });

  it("waits as the CA's Retry-After says on rateLimited, and gives up when that is beyond its patience", async () => {
    const limited = await startAcmeFixture({ ordersPerHour: 1 });
    try {
      const waits: number[] = [];
      // The transport's clock seam: it records each wait instead of sleeping through it.
      const t = new AcmeTransport({ directoryUrl: limited.directoryUrl, key: await accountKey(), patienceMs: 10 * 3_600_000, sleep: async (ms) => void waits.push(ms) });
      await newAccount(t, { eab: await limited.store.eab.create({ identifiers: [] }, new Date()) });
      const ids = [{ type: 'ip' as const, value: '127.0.0.1' }];
      await newOrder(t, { identifiers: ids });
      const err = await newOrder(t, { identifiers: ids }).catch((e: unknown) => e);
      expect((err as AcmeError).is('rateLimited')).toBe(true);
      expect(waits.length).toBeGreaterThan(0);
      // Each wait is what the CA asked for (its count of seconds may tick down between attempts).
      for (const w of waits) expect(Math.abs(w - (err as AcmeError).retryAfterMs!)).toBeLessThanOrEqual(2000);
      expect(waits[0]).toBeGreaterThan(60_000);

      const impatient = new AcmeTransport({ directoryUrl: limited.directoryUrl, key: t.o.key, sleep: async (ms) => void waits.push(ms) });
      impatient.kid = t.kid;
      waits.length = 0;
      await expect(newOrder(impatient, { identifiers: ids })).rejects.toThrow();
      expect(waits).toEqual([]); // an hour away is beyond two minutes of patience: no retry at all
    } finally {
      await limited.close();
    }
  });
});
