import { exportJWK, generateKeyPair } from 'jose';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAccount } from '../agent/src/acme/api.js';
import { obtainCertificate, type ChallengeSolver } from '../agent/src/acme/flows.js';
import { AcmeTransport, type Exchange } from '../agent/src/acme/transport.js';
import { makeCsr, newDeviceKey } from '../agent/src/keystore/device-key.js';
import { Admission } from '../ca-server/src/acme/admission.js';
import { startAcmeFixture, type AcmeFixture } from '../ca-server/test/helpers/acme-fixture.js';

/**
 * A finalize whose answer never reaches the client (the CA instance died, the connection dropped):
 * the agent's retry meets orderNotReady, polls the order as RFC 8555 s7.4 says, and finishes.
 * The CA's finalize is wrapped (through its admission hook) to play the instance that died.
 */
type Trouble = 'none' | 'answer lost after issuing' | 'died holding the order';

class Failover extends Admission {
  trouble: Trouble = 'none';
  /** The answer held back, so the fixture closes only after it went out. */
  heldBack: Promise<unknown> = Promise.resolve();
  constructor(private readonly f: () => AcmeFixture) {
    super({ maxValidationBacklog: Infinity, maxFinalizing: Infinity, retryAfterMs: 1000 });
  }
  override async finalize<T>(work: () => Promise<T>): Promise<T> {
    const trouble = this.trouble;
    this.trouble = 'none';
    if (trouble === 'answer lost after issuing') {
      const answer = super.finalize(work).then(async (done) => {
        await sleep(1500); // longer than the client waits: it gives up and sends finalize again
        return done;
      });
      this.heldBack = answer.catch(() => undefined);
      return answer;
    }
    if (trouble === 'died holding the order') {
      const [order] = await this.f().store.knex('orders').where({ status: 'ready' }).select('id');
      await this.f().store.orders.beginFinalize(order.id, new Date(), new Date(Date.now() + 4000));
      throw new Error('the instance died mid-finalize');
    }
    return super.finalize(work);
  }
}

let f: AcmeFixture;
const failover = new Failover(() => f);

beforeAll(async () => {
  f = await startAcmeFixture({ requireEab: false }, { admission: failover });
});
afterAll(async () => {
  await failover.heldBack;
  await f?.close();
});

const solver: ChallengeSolver = {
  type: 'http-01',
  present: async (_id, token, ka) => void f.responder.set(token, ka),
  cleanup: async (_id, token) => void f.responder.delete(token),
};

async function obtainThrough(trouble: Trouble, address: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const seen: Exchange[] = [];
  const t = new AcmeTransport({
    directoryUrl: f.directoryUrl,
    key: { privateKey: privateKey as CryptoKey, jwk: await exportJWK(publicKey), alg: 'ES256' },
    timeoutMs: 1000,
    onExchange: (e) => seen.push(e),
  });
  await newAccount(t, {});
  failover.trouble = trouble;
  const ids = [{ type: 'ip' as const, value: address }];
  const chain = await obtainCertificate(t, { identifiers: ids, csr: await makeCsr(await newDeviceKey('ecdsa-p256'), ids), solvers: [solver], pollMs: 50 });
  const finalizes = seen.filter((e) => e.url.endsWith('/finalize'));
  const [order] = await f.store.knex('orders').where({ account_id: t.kid!.split('/').pop() }).select('id', 'status');
  return { chain, finalizes, stored: await f.store.knex('certificates').where({ order_id: order.id }).select('serial'), order };
}

describe('finalize retried after its answer was lost', () => {
  it('gets the certificate the first request made, and no second one', async () => {
    const r = await obtainThrough('answer lost after issuing', '127.0.0.5');
    expect(r.chain).toContain('BEGIN CERTIFICATE');
    // Timed out, then orderNotReady (the order was valid already): no second certificate.
    expect(r.finalizes[0]!.status).toBe(0);
    expect(r.finalizes.at(-1)!.status).toBe(403);
    expect(r.stored).toHaveLength(1);
    expect(r.order.status).toBe('valid');
  });

  it('waits out an order held by an instance that died, then finalizes again and gets its certificate', async () => {
    const r = await obtainThrough('died holding the order', '127.0.0.6');
    expect(r.chain).toContain('BEGIN CERTIFICATE');
    // The failure, orderNotReady while the dead instance's hold lasts, then the certificate.
    const statuses = r.finalizes.map((e) => e.status);
    expect(statuses[0]).toBe(500);
    expect(statuses).toContain(403);
    expect(statuses.at(-1)).toBe(200);
    expect(r.stored).toHaveLength(1);
  });
});
