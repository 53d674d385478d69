import { expect } from 'vitest';
import { TestAcmeClient } from './acme-client.js';
import { deviceCsr, type AcmeFixture } from './acme-fixture.js';

/** Polls fn until done says so or ms pass; returns the last value either way. */
export async function until<T>(fn: () => Promise<T>, done: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (done(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A client with an account, registered with a fresh EAB credential of the fixture. */
export async function registerThroughFixture(f: AcmeFixture, identifiers: string[] = []): Promise<TestAcmeClient> {
  const c = await TestAcmeClient.create(f.directoryUrl);
  const eab = await f.store.eab.create({ identifiers }, new Date());
  const res = await c.register(eab, { contact: ['mailto:pacs-admin@hospital.test'] });
  expect(res.status).toBe(201);
  return c;
}

/** Orders, answers http-01 for every authorization through the fixture, finalizes; returns the order and the chain. */
export async function issueThroughFixture(f: AcmeFixture, c: TestAcmeClient, identifiers: { type: 'dns' | 'ip'; value: string }[], extra: Record<string, unknown> = {}) {
  const order = await c.post(c.directory.newOrder, { identifiers, ...extra });
  expect(order.status, JSON.stringify(order.body)).toBe(201);
  const thumb = await c.thumbprint();
  for (const url of order.body.authorizations) {
    const authz = await c.post(url, undefined);
    const http = authz.body.challenges.find((ch: any) => ch.type === 'http-01');
    f.responder.set(http.token, `${http.token}.${thumb}`);
    expect((await c.post(http.url, {})).status).toBe(200);
    const final = await until(() => c.post(url, undefined), (r) => r.body.status !== 'pending');
    expect(final.body.status, JSON.stringify(final.body)).toBe('valid');
  }
  const orderUrl = order.headers.get('location')!;
  const ready = await until(() => c.post(orderUrl, undefined), (r) => r.body.status === 'ready');
  expect(ready.body.status).toBe('ready');
  const { csr, keys } = await deviceCsr(identifiers);
  const fin = await c.post(order.body.finalize, { csr });
  expect(fin.status, JSON.stringify(fin.body)).toBe(200);
  expect(fin.body.status).toBe('valid');
  const chain = await c.post(fin.body.certificate, undefined);
  expect(chain.headers.get('content-type')).toBe('application/pem-certificate-chain');
  return { orderUrl, order: fin.body, chain: chain.body as string, keys };
}
