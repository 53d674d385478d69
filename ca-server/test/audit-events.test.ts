import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditRecorder } from '../src/audit/recorder.js';
import { verifyAuditTrail } from '../src/audit/verify.js';
import { caSignatureCheck } from '../src/pki/audit-signature.js';
import { openStore, type AuditEntry } from '../src/store/index.js';
import { TestAcmeClient } from './helpers/acme-client.js';
import { deviceCsr, startAcmeFixture, type AcmeFixture } from './helpers/acme-fixture.js';
import { issueThroughFixture as issue, registerThroughFixture as registered } from './helpers/acme-flow.js';
import { runCa } from './helpers/cli.js';

let f: AcmeFixture;
beforeAll(async () => {
  f = await startAcmeFixture();
});
afterAll(async () => {
  await f?.close();
});

const der = (pem: string) => Buffer.from(new x509.X509Certificate(pem.split('\n\n')[0]!).rawData).toString('base64url');
const ofType = async (type: AuditEntry['type']) => f.store.audit.list({ types: [type], limit: 1000 });

describe('audit events of the ACME side', () => {
  it('records account, EAB, order, validation, issuance and revocation with who, what and from where', async () => {
    const c = await registered(f);
    const accountId = c.kid!.split('/').pop()!;
    const device = { kind: 'account', id: accountId };
    const { order, chain } = await issue(f, c, [{ type: 'ip', value: '127.0.0.5' }]);
    const serial = new x509.X509Certificate(chain.split('\n\n')[0]!).serialNumber.toLowerCase();
    expect((await c.post(c.directory.revokeCert, { certificate: der(chain), reason: 4 })).status).toBe(200);

    const [created] = (await ofType('account.created')).filter((e) => e.subject?.id === accountId);
    expect(created).toMatchObject({ outcome: 'success', actor: device, source: '127.0.0.1' });
    const eab = (await ofType('eab.used')).find((e) => e.details?.account === accountId);
    expect(eab).toMatchObject({ outcome: 'success', subject: { kind: 'eab' }, source: '127.0.0.1' });
    const orderId = order.finalize.split('/').at(-2);
    expect((await ofType('order.created')).find((e) => e.subject?.id === orderId)).toMatchObject({
      actor: device, details: { identifiers: ['ip:127.0.0.5'], profile: 'dicom-node' },
    });
    // The validator runs without a request: the server is the actor, this machine the source.
    const validation = (await ofType('validation.result')).find((e) => e.details?.account === accountId);
    expect(validation).toMatchObject({ outcome: 'success', actor: { kind: 'system', id: 'wardcert-ca' }, details: { challengeType: 'http-01', identifier: 'ip:127.0.0.5' } });
    expect(validation!.source).toBeTruthy();
    expect((await f.store.audit.list({ subject: serial })).map((e) => [e.type, e.outcome])).toEqual([
      ['certificate.revoked', 'success'],
      ['certificate.issued', 'success'],
    ]);
    expect((await f.store.audit.list({ subject: serial }))[0]).toMatchObject({ actor: device, source: '127.0.0.1', details: { reason: 4, by: 'account' } });
  });

  it('records refusals of authenticated requests, and EAB misuse, but not unauthenticated noise', async () => {
    const c = await registered(f);
    const accountId = c.kid!.split('/').pop()!;
    expect((await c.post(c.directory.newOrder, { identifiers: [{ type: 'dns', value: 'pacs.elsewhere.example' }] })).status).toBe(400);
    const [refused] = await f.store.audit.list({ types: ['order.refused'], actor: accountId });
    expect(refused).toMatchObject({ outcome: 'failure', details: { problem: 'rejectedIdentifier' } });
    expect(String(refused!.details!.detail)).toContain('pacs.elsewhere.example');

    const stranger = await TestAcmeClient.create(f.directoryUrl);
    const wrongKey = { kid: (await f.store.eab.create({ identifiers: [] }, new Date())).kid, hmacKey: Buffer.alloc(32, 7).toString('base64url') };
    expect((await stranger.register(wrongKey)).status).toBe(403);
    const strangerId = `jwk:${await stranger.thumbprint()}`;
    const misuse = (await ofType('eab.used')).find((e) => e.outcome === 'failure' && e.actor.id === strangerId);
    expect(misuse).toMatchObject({ source: '127.0.0.1', details: { problem: 'unauthorized', detail: expect.stringContaining('MAC') } });

    const before = (await f.store.audit.head()).seq;
    await fetch(f.directoryUrl.replace('directory', 'new-order'), { method: 'POST', headers: { 'content-type': 'application/jose+json' }, body: '{"not":"a jws"}' });
    expect((await f.store.audit.head()).seq).toBe(before);
  });

  it('records renew-now by the operator who ran it, and the chain verifies', async () => {
    const c = await registered(f);
    const { chain } = await issue(f, c, [{ type: 'ip', value: '127.0.0.6' }]);
    const serial = new x509.X509Certificate(chain.split('\n\n')[0]!).serialNumber.toLowerCase();
    expect((await runCa(['renew-now', '--data', f.dir, '--serial', serial])).code).toBe(0);
    const [renew] = await ofType('certificate.renew-now');
    expect(renew).toMatchObject({ actor: { kind: 'cli', id: userInfo().username }, subject: { kind: 'certificate', id: serial }, details: { serials: [serial], count: 1 } });
    expect(await verifyAuditTrail(f.store.audit, await caSignatureCheck(f.dir))).toMatchObject({ ok: true });
  });

  it('fails the action when the trail cannot take its entry: no certificate is handed out unrecorded', async () => {
    const c = await registered(f);
    const orderRes = await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.7' }] });
    const thumb = await c.thumbprint();
    const authz = await c.post(orderRes.body.authorizations[0], undefined);
    const http = authz.body.challenges.find((ch: { type: string }) => ch.type === 'http-01');
    f.responder.set(http.token, `${http.token}.${thumb}`);
    await c.post(http.url, {});
    const orderUrl = orderRes.headers.get('location')!;
    for (let i = 0; i < 100 && (await c.post(orderUrl, undefined)).body.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 100));
    // A recorder on a store whose connections are gone: every write fails for real.
    const broken = await openStore({ dataDir: f.dir });
    await broken.close();
    const working = f.acme.audit;
    f.acme.audit = createAuditRecorder({ store: broken });
    try {
      const { csr } = await deviceCsr([{ type: 'ip', value: '127.0.0.7' }]);
      const fin = await c.post(orderRes.body.finalize, { csr });
      expect(fin.status).toBe(500);
      expect(fin.body.type).toBe('urn:ietf:params:acme:error:serverInternal');
    } finally {
      f.acme.audit = working;
    }
    const after = await c.post(orderUrl, undefined);
    expect(after.body.status).toBe('ready');
    expect(after.body.certificate).toBeUndefined();
  });
});
