import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { exportJWK, generateKeyPair, FlattenedSign } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certId } from '../src/acme/cert-id.js';
import { TestAcmeClient } from './helpers/acme-client.js';
import { deviceCsr, startAcmeFixture, type AcmeFixture } from './helpers/acme-fixture.js';
import { issueThroughFixture, registerThroughFixture, until } from './helpers/acme-flow.js';

let f: AcmeFixture;
const ERR = 'urn:ietf:params:acme:error:';

beforeAll(async () => {
  f = await startAcmeFixture();
});
afterAll(async () => {
  await f?.close();
});

const registered = (identifiers: string[] = []) => registerThroughFixture(f, identifiers);

/** Orders, answers http-01 for every authorization, finalizes; returns the order and the chain. */
const issue = (c: TestAcmeClient, identifiers: { type: 'dns' | 'ip'; value: string }[], extra: Record<string, unknown> = {}) => issueThroughFixture(f, c, identifiers, extra);

describe('the directory and nonces', () => {
  it('lists resources, renewalInfo, profiles and that EAB is required', async () => {
    const dir = await (await fetch(f.directoryUrl)).json();
    for (const k of ['newNonce', 'newAccount', 'newOrder', 'revokeCert', 'keyChange', 'renewalInfo']) expect(dir[k]).toMatch(/^http/);
    expect(dir.meta.externalAccountRequired).toBe(true);
    expect(Object.keys(dir.meta.profiles)).toEqual(expect.arrayContaining(['dicom-node', 'hl7-endpoint', 'ca-tls']));
  });

  it('hands out nonces by HEAD (200) and GET (204), never cached', async () => {
    const head = await fetch(`${f.directoryUrl.replace('directory', 'new-nonce')}`, { method: 'HEAD' });
    const get = await fetch(`${f.directoryUrl.replace('directory', 'new-nonce')}`);
    expect(head.status).toBe(200);
    expect(get.status).toBe(204);
    expect(head.headers.get('replay-nonce')).not.toBe(get.headers.get('replay-nonce'));
    expect(get.headers.get('cache-control')).toBe('no-store');
  });
});

describe('a full issuance for an IP identifier with http-01 (RFC 8738)', () => {
  it('issues a dicom-node certificate chained to the issuing CA, with ARI and replaces', async () => {
    const c = await registered();
    const { chain, orderUrl } = await issue(c, [{ type: 'ip', value: '127.0.0.1' }]);
    const [leafPem] = chain.split(/(?<=-----END CERTIFICATE-----)\n/);
    const leaf = new x509.X509Certificate(leafPem!);
    expect(leaf.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => ({ type: n.type, value: n.value }))).toEqual([{ type: 'ip', value: '127.0.0.1' }]);
    expect(await leaf.verify({ publicKey: f.acme.ca.cert.publicKey, signatureOnly: true })).toBe(true);
    expect(leaf.notAfter.getTime() - leaf.notBefore.getTime()).toBeGreaterThan(71 * 3600_000);

    const id = certId(f.acme.ca.keyId, leaf.serialNumber.toLowerCase());
    const ari = await fetch(`${c.directory.renewalInfo}/${id}`);
    expect(ari.status).toBe(200);
    const window = (await ari.json()).suggestedWindow;
    const life = leaf.notAfter.getTime() - leaf.notBefore.getTime();
    expect(Date.parse(window.start)).toBeGreaterThanOrEqual(leaf.notBefore.getTime() + (2 * life) / 3 - 1000);
    expect(Date.parse(window.end)).toBeLessThanOrEqual(leaf.notBefore.getTime() + (5 * life) / 6 + 1000);
    expect(Number(ari.headers.get('retry-after'))).toBeGreaterThanOrEqual(60);

    const renewal = await issue(c, [{ type: 'ip', value: '127.0.0.1' }], { replaces: id });
    expect(renewal.order.replaces).toBe(id);
    const again = await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.1' }], replaces: id });
    expect(again.status).toBe(409);
    expect(again.body.type).toBe(`${ERR}alreadyReplaced`);

    const orders = await c.post(c.kid!.concat('/orders'), undefined);
    expect(orders.body.orders).toContain(orderUrl);
  });

  it('moves the ARI window into the past after renew-now and after revocation', async () => {
    const c = await registered();
    const { chain } = await issue(c, [{ type: 'ip', value: '127.0.0.2' }]);
    const leaf = new x509.X509Certificate(chain.split(/(?<=-----END CERTIFICATE-----)\n/)[0]!);
    const serial = leaf.serialNumber.toLowerCase();
    expect(await f.store.certificates.renewNow({ serials: [serial] }, new Date())).toBe(1);
    const ari = await (await fetch(`${c.directory.renewalInfo}/${certId(f.acme.ca.keyId, serial)}`)).json();
    expect(Date.parse(ari.suggestedWindow.end)).toBeLessThanOrEqual(Date.now());
  });

  it('revokes by the owning account and by the certificate key, then refuses a second revocation', async () => {
    const c = await registered();
    const a = await issue(c, [{ type: 'ip', value: '127.0.0.3' }]);
    const der = (pem: string) => Buffer.from(new x509.X509Certificate(pem.split(/(?<=-----END CERTIFICATE-----)\n/)[0]!).rawData).toString('base64url');
    const bad = await c.post(c.directory.revokeCert, { certificate: der(a.chain), reason: 7 });
    expect(bad.body.type).toBe(`${ERR}badRevocationReason`);
    const ok = await c.post(c.directory.revokeCert, { certificate: der(a.chain), reason: 1 });
    expect(ok.status).toBe(200);
    const twice = await c.post(c.directory.revokeCert, { certificate: der(a.chain) });
    expect(twice.body.type).toBe(`${ERR}alreadyRevoked`);

    const b = await issue(c, [{ type: 'ip', value: '127.0.0.4' }]);
    const byKeyPayload = { certificate: der(b.chain), reason: 4 };
    const jwk = await exportJWK(b.keys.publicKey);
    const nonce = await c.freshNonce();
    const signed = await new FlattenedSign(new TextEncoder().encode(JSON.stringify(byKeyPayload)))
      .setProtectedHeader({ alg: 'ES256', jwk, nonce, url: c.directory.revokeCert } as never)
      .sign(b.keys.privateKey);
    const byKey = await fetch(c.directory.revokeCert, { method: 'POST', headers: { 'content-type': 'application/jose+json' }, body: JSON.stringify(signed) });
    expect(byKey.status).toBe(200);
    expect(f.revoked.length).toBeGreaterThanOrEqual(2);

    const stranger = await registered();
    const c3 = await issue(c, [{ type: 'ip', value: '127.0.0.5' }]);
    const notYours = await stranger.post(stranger.directory.revokeCert, { certificate: der(c3.chain) });
    expect(notYours.body.type).toBe(`${ERR}unauthorized`);
  });

  it('rolls the account key over (keyChange) and deactivates the account', async () => {
    const c = await registered();
    const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
    const newJwk = await exportJWK(publicKey);
    const inner = await new FlattenedSign(new TextEncoder().encode(JSON.stringify({ account: c.kid, oldKey: c.jwk })))
      .setProtectedHeader({ alg: 'ES384', jwk: newJwk, url: c.directory.keyChange } as never)
      .sign(privateKey);
    const res = await c.post(c.directory.keyChange, inner);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const old = await c.post(c.kid!, undefined);
    expect(old.body.type).toBe(`${ERR}malformed`); // the old key no longer signs for the account
    const deactivate = await c.post(c.kid!, { status: 'deactivated' }, { key: privateKey as CryptoKey, alg: 'ES384' });
    expect(deactivate.body.status).toBe('deactivated');
    const after = await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.1' }] }, { key: privateKey as CryptoKey, alg: 'ES384' });
    expect(after.body.type).toBe(`${ERR}unauthorized`);
  });
});

describe('refusals, each with its RFC 8555 problem type and no certificate', () => {
  it('replayed nonce: badNonce, with a fresh nonce in the answer', async () => {
    const c = await registered();
    const nonce = await c.freshNonce();
    expect((await c.post(c.kid!, undefined, { nonce })).status).toBe(200);
    const replay = await c.post(c.kid!, undefined, { nonce });
    expect(replay.body.type).toBe(`${ERR}badNonce`);
    expect(replay.headers.get('replay-nonce')).toBeTruthy();
    expect(replay.headers.get('content-type')).toContain('application/problem+json');
  });

  it('wrong url: unauthorized', async () => {
    const c = await registered();
    const res = await c.post(c.kid!, undefined, { headerUrl: c.directory.newOrder });
    expect(res.body.type).toBe(`${ERR}unauthorized`);
  });

  it('jwk and kid together: malformed', async () => {
    const c = await registered();
    const res = await c.post(c.kid!, undefined, { extraHeader: { jwk: c.jwk } });
    expect(res.body.type).toBe(`${ERR}malformed`);
  });

  it('a bad signature: malformed', async () => {
    const c = await registered();
    const jws = await c.sign(c.kid!, undefined);
    jws.signature = jws.signature.slice(0, -4) + (jws.signature.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const res = await c.post(c.kid!, undefined, { rawBody: JSON.stringify(jws) });
    expect(res.body.type).toBe(`${ERR}malformed`);
    expect(res.body.detail).toContain('signature');
  });

  it('an unknown alg: badSignatureAlgorithm listing the supported ones', async () => {
    const c = await registered();
    const res = await c.post(c.kid!, undefined, { alg: 'HS256', rawBody: undefined, extraHeader: {} }).catch(() => undefined);
    // jose refuses to sign HS256 with an EC key, so build the header by hand
    const nonce = await c.freshNonce();
    const protectedHeader = Buffer.from(JSON.stringify({ alg: 'none', nonce, url: c.kid, kid: c.kid })).toString('base64url');
    const raw = await fetch(c.kid!, { method: 'POST', headers: { 'content-type': 'application/jose+json' }, body: JSON.stringify({ protected: protectedHeader, payload: '', signature: 'AA' }) });
    const body = await raw.json();
    expect(body.type).toBe(`${ERR}badSignatureAlgorithm`);
    expect(body.algorithms).toEqual(expect.arrayContaining(['ES256', 'RS256', 'EdDSA']));
    void res;
  });

  it('an oversized body: 413 malformed', async () => {
    const c = await registered();
    const res = await c.post(c.directory.newOrder, undefined, { rawBody: JSON.stringify({ protected: 'a'.repeat(70_000), payload: '', signature: 'a' }) });
    expect(res.status).toBe(413);
    expect(res.body.type).toBe(`${ERR}malformed`);
  });

  it('a wrong content type: 415 malformed', async () => {
    const c = await registered();
    const res = await c.post(c.kid!, undefined, { contentType: 'application/json' });
    expect(res.status).toBe(415);
    expect(res.body.type).toBe(`${ERR}malformed`);
  });

  it('no EAB: externalAccountRequired', async () => {
    const c = await TestAcmeClient.create(f.directoryUrl);
    const res = await c.register();
    expect(res.body.type).toBe(`${ERR}externalAccountRequired`);
  });

  it('EAB with a wrong MAC: unauthorized, and the credential stays unused', async () => {
    const eab = await f.store.eab.create({ identifiers: [] }, new Date());
    const c = await TestAcmeClient.create(f.directoryUrl);
    const res = await c.register({ kid: eab.kid, hmacKey: Buffer.alloc(32, 7).toString('base64url') });
    expect(res.body.type).toBe(`${ERR}unauthorized`);
    expect((await f.store.eab.byKid(eab.kid))!.accountId).toBeNull();
  });

  it('EAB reused by a second key: unauthorized', async () => {
    const eab = await f.store.eab.create({ identifiers: [] }, new Date());
    const first = await TestAcmeClient.create(f.directoryUrl);
    expect((await first.register(eab)).status).toBe(201);
    const second = await TestAcmeClient.create(f.directoryUrl);
    const res = await second.register(eab);
    expect(res.body.type).toBe(`${ERR}unauthorized`);
    expect(res.body.detail).toContain('already bound');
  });

  it('a name outside policy: rejectedIdentifier with a subproblem per identifier, before any validation', async () => {
    const c = await registered();
    const res = await c.post(c.directory.newOrder, {
      identifiers: [{ type: 'dns', value: 'pacs.other.example' }, { type: 'ip', value: '192.0.2.1' }, { type: 'dns', value: 'gw1.hospital.test' }],
    });
    expect(res.body.type).toBe(`${ERR}rejectedIdentifier`);
    expect(res.body.subproblems.map((s: any) => s.identifier.value)).toEqual(['pacs.other.example', '192.0.2.1']);
    const email = await c.post(c.directory.newOrder, { identifiers: [{ type: 'email', value: 'a@hospital.test' }] });
    expect(email.body.type).toBe(`${ERR}unsupportedIdentifier`);
  });

  it("a name outside the device's EAB identifiers: rejectedIdentifier", async () => {
    const c = await registered(['127.0.0.9']);
    const res = await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.8' }] });
    expect(res.body.type).toBe(`${ERR}rejectedIdentifier`);
    expect(res.body.detail).toContain("registered for this account's device");
  });

  it('an unknown profile: invalidProfile', async () => {
    const c = await registered();
    const res = await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.1' }], profile: 'no-such-profile' });
    expect(res.body.type).toBe(`${ERR}invalidProfile`);
  });

  it('finalize before the order is ready: orderNotReady', async () => {
    const c = await registered();
    const order = await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.1' }] });
    const { csr } = await deviceCsr([{ type: 'ip', value: '127.0.0.1' }]);
    const res = await c.post(order.body.finalize, { csr });
    expect(res.status).toBe(403);
    expect(res.body.type).toBe(`${ERR}orderNotReady`);
  });

  it('a CSR with an extra name, and a weak key: badCSR and badPublicKey, the order stays ready', async () => {
    const c = await registered();
    const ids = [{ type: 'ip' as const, value: '127.0.0.6' }];
    const order = await c.post(c.directory.newOrder, { identifiers: ids });
    const thumb = await c.thumbprint();
    const authz = await c.post(order.body.authorizations[0], undefined);
    const ch = authz.body.challenges.find((x: any) => x.type === 'http-01');
    f.responder.set(ch.token, `${ch.token}.${thumb}`);
    await c.post(ch.url, {});
    const orderUrl = order.headers.get('location')!;
    await until(() => c.post(orderUrl, undefined), (r) => r.body.status === 'ready');
    const extra = await deviceCsr([...ids, { type: 'dns', value: 'extra.hospital.test' }]);
    const r1 = await c.post(order.body.finalize, { csr: extra.csr });
    expect(r1.body.type).toBe(`${ERR}badCSR`);
    expect(r1.body.detail).toContain('extra.hospital.test');
    const weak = await deviceCsr(ids, { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' });
    const r2 = await c.post(order.body.finalize, { csr: weak.csr });
    expect(r2.body.type).toBe(`${ERR}badPublicKey`);
    expect((await c.post(orderUrl, undefined)).body.status).toBe('ready');
    expect((await f.store.certificates.list()).some((cert) => cert.orderId === orderUrl.split('/').pop())).toBe(false);
  });

  it('a failed validation makes the authorization and the order invalid', async () => {
    const c = await registered();
    const order = await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.7' }] });
    const authz = await c.post(order.body.authorizations[0], undefined);
    const ch = authz.body.challenges.find((x: any) => x.type === 'http-01');
    f.responder.set(ch.token, 'not the key authorization');
    await c.post(ch.url, {});
    const done = await until(() => c.post(order.body.authorizations[0], undefined), (r) => r.body.status !== 'pending');
    expect(done.body.status).toBe('invalid');
    expect(done.body.challenges.find((x: any) => x.type === 'http-01').error.type).toBe(`${ERR}unauthorized`);
    const o = await c.post(order.headers.get('location')!, undefined);
    expect(o.body.status).toBe('invalid');
  });

  it('unknown resources and bad certIDs: 404 or 400 problems, never 5xx', async () => {
    const base = f.directoryUrl.replace('/directory', '');
    expect((await fetch(`${base}/renewal-info/not-a-cert-id`)).status).toBe(400);
    expect((await fetch(`${base}/renewal-info/AAAA.AAAA`)).status).toBe(404);
    expect((await fetch(`${base}/nothing-here`)).status).toBe(404);
    const res = await fetch(`${base}/new-order`, { method: 'POST', headers: { 'content-type': 'application/jose+json' }, body: '{not json' });
    expect(res.status).toBe(400);
  });

  it('rate limits orders per account with rateLimited and Retry-After', async () => {
    const limited = await startAcmeFixture({ ordersPerHour: 2 });
    try {
      const c = await TestAcmeClient.create(limited.directoryUrl);
      await c.register(await limited.store.eab.create({ identifiers: [] }, new Date()));
      const order = () => c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.1' }] });
      expect((await order()).status).toBe(201);
      expect((await order()).status).toBe(201);
      const third = await order();
      expect(third.status).toBe(429);
      expect(third.body.type).toBe(`${ERR}rateLimited`);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});

describe('accounts, authorizations and order lifecycle', () => {
  it('finds an existing account with onlyReturnExisting and refuses unknown keys', async () => {
    const c = await registered();
    const again = await c.post(c.directory.newAccount, { onlyReturnExisting: true }, { useJwk: true });
    expect(again.status).toBe(200);
    expect(again.headers.get('location')).toBe(c.kid);
    const stranger = await TestAcmeClient.create(f.directoryUrl);
    const none = await stranger.post(stranger.directory.newAccount, { onlyReturnExisting: true }, { useJwk: true });
    expect(none.body.type).toBe(`${ERR}accountDoesNotExist`);
  });

  it('checks contacts: mailto only, one address each', async () => {
    const eab = await f.store.eab.create({ identifiers: [] }, new Date());
    const c = await TestAcmeClient.create(f.directoryUrl);
    expect((await c.register(eab, { contact: ['tel:+4930123'] })).body.type).toBe(`${ERR}unsupportedContact`);
    expect((await c.register(eab, { contact: ['mailto:a@x.test,b@x.test'] })).body.type).toBe(`${ERR}invalidContact`);
    const ok = await c.register(eab, { contact: ['mailto:radiology-it@hospital.test'] });
    expect(ok.status).toBe(201);
    const updated = await c.post(c.kid!, { contact: ['mailto:pacs@hospital.test'] });
    expect(updated.body.contact).toEqual(['mailto:pacs@hospital.test']);
  });

  it('deactivates an authorization, which invalidates its order', async () => {
    const c = await registered();
    const order = await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.1' }] });
    const authzUrl = order.body.authorizations[0];
    const res = await c.post(authzUrl, { status: 'deactivated' });
    expect(res.body.status).toBe('deactivated');
    expect((await c.post(order.headers.get('location')!, undefined)).body.status).toBe('invalid');
    const twice = await c.post(authzUrl, { status: 'deactivated' });
    expect(twice.body.type).toBe(`${ERR}malformed`);
  });

  it('expires orders and authorizations that were never finished', async () => {
    const c = await registered();
    const order = await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.1' }] });
    const id = order.headers.get('location')!.split('/').pop()!;
    await f.store.knex('orders').where({ id }).update({ expires_at: Date.now() - 1 });
    await f.store.knex('authorizations').where({ order_id: id }).update({ expires_at: Date.now() - 1 });
    const after = await c.post(order.headers.get('location')!, undefined);
    expect(after.body.status).toBe('invalid');
    expect((await c.post(order.body.authorizations[0], undefined)).body.status).toBe('expired');
  });

  it("hides another account's order and refuses a second validation of the same authorization", async () => {
    const a = await registered();
    const b = await registered();
    const order = await a.post(a.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.1' }] });
    expect((await b.post(order.headers.get('location')!, undefined)).status).toBe(404);
    const authz = await a.post(order.body.authorizations[0], undefined);
    const [first, second] = authz.body.challenges;
    await a.post(first.url, {});
    await a.post(second.url, {}); // 200 while the first is in flight, 400 once it has decided the authorization
    // RFC 8555 s7.1.4: the first challenge tried decides; the other is never validated.
    const after = await a.post(order.body.authorizations[0], undefined);
    expect(after.body.challenges.find((c: any) => c.url === second.url).status).toBe('pending');
  });

  it('leaves validation work in the store, so a restarted validator finishes it', async () => {
    const c = await registered();
    const order = await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.1' }] });
    const authz = await c.post(order.body.authorizations[0], undefined);
    const ch = authz.body.challenges.find((x: any) => x.type === 'http-01');
    const id = ch.url.split('/').pop();
    // As if an instance had leased the challenge and died: the lease has run out.
    await f.store.knex('challenges').where({ id }).update({ status: 'processing', lease_until: Date.now() - 1, attempts: 1 });
    f.responder.set(ch.token, `${ch.token}.${await c.thumbprint()}`);
    f.acme.pokeValidator();
    const done = await until(() => c.post(order.body.authorizations[0], undefined), (r) => r.body.status !== 'pending');
    expect(done.body.status).toBe('valid');
  });
});

describe('two instances on one store', () => {
  it('accepts on one instance a nonce, an account and an order made on the other', async () => {
    const { createServer } = await import('node:http');
    const { createAcmeApp } = await import('../src/acme/app.js');
    // Both instances sit behind one public URL, as behind a load balancer.
    const second = createServer(createAcmeApp({ ...f.acme, pokeValidator: () => undefined }).callback());
    await new Promise<void>((r) => second.listen(0, '127.0.0.1', r));
    const secondBase = `http://127.0.0.1:${(second.address() as import('node:net').AddressInfo).port}`;
    const firstBase = new URL(f.directoryUrl).origin;
    try {
      const c = await registered();
      const nonce = await c.freshNonce(); // from the first instance
      const jws = await c.sign(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.1' }] }, { nonce });
      const res = await fetch(c.directory.newOrder.replace(firstBase, secondBase), {
        method: 'POST', headers: { 'content-type': 'application/jose+json' }, body: JSON.stringify(jws),
      });
      expect(res.status).toBe(201);
      const orderUrl = res.headers.get('location')!;
      const back = await c.post(orderUrl, undefined); // read through the first instance
      expect(back.body.status).toBe('pending');
      const replay = await fetch(c.directory.newOrder.replace(firstBase, secondBase), {
        method: 'POST', headers: { 'content-type': 'application/jose+json' }, body: JSON.stringify(jws),
      });
      expect((await replay.json()).type).toBe(`${ERR}badNonce`);
    } finally {
      second.closeAllConnections();
      await new Promise((r) => second.close(r));
    }
  });
});

describe('account key algorithms', () => {
  it.each(['ES384', 'ES512', 'RS256', 'EdDSA'])('registers and orders with %s', async (alg) => {
    const c = await TestAcmeClient.create(f.directoryUrl, alg);
    expect((await c.register(await f.store.eab.create({ identifiers: [] }, new Date()))).status).toBe(201);
    expect((await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.1' }] })).status).toBe(201);
  });

  it('refuses an RS256 key under 2048 bits as badPublicKey', async () => {
    // jose will not sign with a weak key, so the JWS is put together by hand with WebCrypto.
    const alg = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
    const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    const jwk = await exportJWK(keys.publicKey);
    const c = await TestAcmeClient.create(f.directoryUrl);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const protectedHeader = b64({ alg: 'RS256', jwk, nonce: await c.freshNonce(), url: c.directory.newAccount });
    const payload = b64({});
    const signature = Buffer.from(await crypto.subtle.sign(alg, keys.privateKey, Buffer.from(`${protectedHeader}.${payload}`))).toString('base64url');
    const res = await fetch(c.directory.newAccount, { method: 'POST', headers: { 'content-type': 'application/jose+json' }, body: JSON.stringify({ protected: protectedHeader, payload, signature }) });
    const body = await res.json();
    expect(body.type).toBe(`${ERR}badPublicKey`);
    expect(body.detail).toContain('at least 2048 bits');
  });
});

describe('agent reports', () => {
  it('keeps a valid report and refuses anything else with a problem document', async () => {
    const c = await registered();
    const report = {
      certificate: null, nextRenewal: null, lastError: null, agentVersion: '0.1.0', updatedAt: new Date().toISOString(),
      listeners: [{ kind: 'dicom', listen: '0.0.0.0:2762', ok: true, servedSerial: 'ab12' }],
    };
    expect((await c.post(c.directory.wardcertAgentReport, report)).status).toBe(204);
    const stored = await f.store.agentReports.byAccount(c.kid!.split('/').pop()!);
    expect(stored?.report).toEqual(report);
    const bad = await c.post(c.directory.wardcertAgentReport, { ...report, patient: 'Doe^Jane' });
    expect(bad.body.type).toBe(`${ERR}malformed`);
    const anonymous = await (await TestAcmeClient.create(f.directoryUrl)).post(c.directory.wardcertAgentReport, report, { useJwk: true });
    expect(anonymous.body.type).toBe(`${ERR}malformed`); // reports are signed by an account ("kid")
  });
});

describe('hostile input', () => {
  it('answers every endpoint with a problem document, never a 5xx, whatever arrives', async () => {
    const c = await registered();
    const order = await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.1' }] });
    const urls = [c.directory.newAccount, c.directory.newOrder, c.directory.revokeCert, c.directory.keyChange, c.kid!, `${c.kid}/orders`, order.headers.get('location')!, order.body.finalize, order.body.authorizations[0]];
    const payloads: unknown[] = [null, 42, 'text', [], { identifiers: 'x' }, { identifiers: [{ type: 'dns', value: 'x'.repeat(300) }] }, { csr: '!!!' }, { certificate: 'AAAA' }, { status: 'valid' }, { contact: [1, 2] }, { onlyReturnExisting: 'yes' }];
    for (const url of urls) {
      for (const payload of payloads) {
        const res = await c.post(url, payload);
        expect(res.status, `${url} ${JSON.stringify(payload)}`).toBeLessThan(500);
      }
      const raw = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/jose+json' }, body: JSON.stringify({ protected: 'e30', payload: '', signature: 'AA' }) });
      expect(raw.status).toBeLessThan(500);
    }
  });
});
