import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAndRecord } from '../src/ca/issue-and-record.js';
import { checkCsr } from '../src/pki/csr.js';
import { answerOcsp, decodeOcspGetPath } from '../src/pki/ocsp.js';
import { createCrlPublisher, createHttpSideApp, type CrlPublisher } from '../src/revocation/index.js';
import { deviceCsr, startAcmeFixture, type AcmeFixture } from './helpers/acme-fixture.js';

let f: AcmeFixture;
let crl: CrlPublisher;
let server: Server;
let base: string;
const logger = pino({ level: 'silent' });

/** Asynchronous on purpose: the server under test runs in this process and must keep answering. */
function openssl(args: string[]): Promise<string> {
  return new Promise((resolve) => execFile('openssl', args, { timeout: 30_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`)));
}

async function leaf(name: string) {
  const { csr } = await deviceCsr([{ type: 'dns', value: name }]);
  const request = await checkCsr(new Uint8Array(Buffer.from(csr, 'base64url')));
  const issued = await issueAndRecord(f.store, { ca: f.acme.ca, profile: f.acme.profiles.get('dicom-node')!, request });
  const file = join(f.dir, `${name}.pem`);
  await writeFile(file, issued.cert.toString('pem'));
  return { serial: issued.serial, file };
}

beforeAll(async () => {
  f = await startAcmeFixture();
  await writeFile(join(f.dir, 'int.crt'), f.acme.ca.cert.toString('pem'));
  await writeFile(join(f.dir, 'root.crt'), f.acme.ca.root.toString('pem'));
  await writeFile(join(f.dir, 'chain.pem'), `${f.acme.ca.cert.toString('pem')}\n${f.acme.ca.root.toString('pem')}\n`);
  crl = createCrlPublisher({ store: f.store, ca: f.acme.ca, logger });
  await crl.start();
  server = createServer(createHttpSideApp({ store: f.store, ca: f.acme.ca, crl, logger }).callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  crl?.stop();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await f?.close();
});

describe('the CRL', () => {
  it('is served as DER that openssl verifies, and lists a revocation with a higher number', async () => {
    const first = new x509.X509Crl(new Uint8Array(await (await fetch(`${base}/crl/intermediate.crl`)).arrayBuffer()));
    const l = await leaf('crl1.hospital.test');
    await f.store.certificates.markRevoked(l.serial, 1, new Date());
    await crl.regenerate('test');
    const res = await fetch(`${base}/crl/intermediate.crl`);
    expect(res.headers.get('content-type')).toBe('application/pkix-crl');
    const der = Buffer.from(await res.arrayBuffer());
    await writeFile(join(f.dir, 'crl.der'), der);
    const text = await openssl(['crl', '-inform', 'DER', '-in', join(f.dir, 'crl.der'), '-CAfile', join(f.dir, 'chain.pem'), '-noout', '-text']);
    expect(text).toContain('verify OK');
    expect(text.toLowerCase()).toContain(`serial number: ${l.serial}`);
    const second = new x509.X509Crl(new Uint8Array(der));
    const number = (c: x509.X509Crl) => c.getExtension('2.5.29.20')!.value;
    expect(Buffer.from(number(second)).compare(Buffer.from(number(first)))).toBeGreaterThan(0);
  });

  it('is signed by one publisher at a time: racing publishers give distinct, increasing numbers', async () => {
    const other = createCrlPublisher({ store: f.store, ca: f.acme.ca, logger });
    const before = (await f.store.crls.current(f.acme.ca.keyId))!.number;
    await Promise.all([crl.regenerate('a'), other.regenerate('b'), crl.regenerate('c')]);
    expect((await f.store.crls.current(f.acme.ca.keyId))!.number).toBe(before + 3n);
  });
});

describe('OCSP', () => {
  it('answers good, then revoked, to openssl over POST and GET', async () => {
    const l = await leaf('ocsp1.hospital.test');
    const ask = (extra: string[] = []) =>
      openssl(['ocsp', '-issuer', join(f.dir, 'int.crt'), '-cert', l.file, '-url', `${base}/ocsp`, '-CAfile', join(f.dir, 'root.crt'), ...extra]);
    expect(await ask()).toContain(`${l.file}: good`);
    await f.store.certificates.markRevoked(l.serial, 5, new Date());
    const revoked = await ask(['-nonce']);
    expect(revoked).toContain('Response verify OK');
    expect(revoked).toContain(`${l.file}: revoked`);
    expect(revoked).toContain('cessationOfOperation');
    // GET form (RFC 6960 Appendix A.1)
    const reqFile = join(f.dir, 'req.der');
    await openssl(['ocsp', '-issuer', join(f.dir, 'int.crt'), '-cert', l.file, '-reqout', reqFile, '-no_nonce']);
    const { readFile } = await import('node:fs/promises');
    const get = await fetch(`${base}/ocsp/${encodeURIComponent((await readFile(reqFile)).toString('base64'))}`);
    expect(get.headers.get('content-type')).toBe('application/ocsp-response');
    await writeFile(join(f.dir, 'resp.der'), Buffer.from(await get.arrayBuffer()));
    const parsed = await openssl(['ocsp', '-respin', join(f.dir, 'resp.der'), '-issuer', join(f.dir, 'int.crt'), '-cert', l.file, '-CAfile', join(f.dir, 'root.crt')]);
    expect(parsed).toContain(`${l.file}: revoked`);
  });

  it('answers malformedRequest to garbage and unauthorized to a request for another CA, never 5xx', async () => {
    const garbage = await fetch(`${base}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: 'not der at all' });
    expect(garbage.status).toBe(200);
    expect(Buffer.from(await garbage.arrayBuffer()).toString('hex')).toBe('30030a0101'); // OCSPResponse { malformedRequest }
    // An oversized body is cut off (the connection may be reset mid-upload); the responder stays up.
    const oversize = await fetch(`${base}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: Buffer.alloc(20_000) })
      .then(async (r) => Buffer.from(await r.arrayBuffer()).toString('hex'), () => 'reset');
    expect(['30030a0101', 'reset']).toContain(oversize);
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');
    expect((await fetch(`${base}/ocsp`, { method: 'POST', body: 'x' })).status).toBe(415);
    expect((await fetch(`${base}/ocsp/%%%`)).status).toBe(200);
    expect(decodeOcspGetPath('%%%')).toBeUndefined();
    // A request about a certificate of another CA: the root is not this responder's issuer.
    const l = await leaf('ocsp2.hospital.test');
    await openssl(['ocsp', '-issuer', join(f.dir, 'root.crt'), '-cert', l.file, '-reqout', join(f.dir, 'foreign.der'), '-no_nonce']);
    const { readFile } = await import('node:fs/promises');
    const answer = await answerOcsp(new Uint8Array(await readFile(join(f.dir, 'foreign.der'))), { certificate: f.acme.ca.cert, key: f.acme.ca.key }, async () => ({ status: 'good' }));
    expect(Buffer.from(answer).toString('hex')).toBe('30030a0106'); // unauthorized
  });
});

describe('CA certificates and health', () => {
  it('serves the CA certificates, health, and 404/405 for the rest', async () => {
    const inter = await fetch(`${base}/ca/intermediate.crt`);
    expect(inter.headers.get('content-type')).toBe('application/pkix-cert');
    expect(new x509.X509Certificate(new Uint8Array(await inter.arrayBuffer())).subject).toBe(f.acme.ca.cert.subject);
    expect(await (await fetch(`${base}/ca/chain.pem`)).text()).toContain('BEGIN CERTIFICATE');
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');
    expect((await fetch(`${base}/nothing`)).status).toBe(404);
    expect((await fetch(`${base}/ca/root.crt`, { method: 'DELETE' })).status).toBe(405);
  });
});
