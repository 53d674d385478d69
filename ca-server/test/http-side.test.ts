import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIssuingCa, type IssuingCa } from '../src/pki/issuing-ca.js';
import { createAuditRecorder } from '../src/audit/recorder.js';
import { createCrlPublisher, createHttpSideApp, type CrlPublisher } from '../src/revocation/index.js';
import { openStore, type Store, type StoreOptions } from '../src/store/index.js';
import { CA_PASSPHRASE, runCa } from './helpers/cli.js';
import { EC_P256, makeCsr } from './helpers/openssl.js';
import { createPostgresSchema, runPostgresTests } from './helpers/postgres.js';

const silent = pino({ level: 'silent' });
const MALFORMED_REQUEST = '30030a0101'; // OCSPResponse { responseStatus malformedRequest }

let work: string;
let data: string;
let files: { root: string; intermediate: string; chain: string };

/**
 * openssl without blocking the event loop: the server under test runs in this process.
 * Resolves with stdout and stderr together, whatever the exit code.
 */
function openssl(args: string[]): Promise<string> {
  return new Promise((resolve) => execFile('openssl', args, { timeout: 20_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`)));
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A raw HTTP exchange: exact methods and headers, chunked bodies, and resets reported rather than thrown. */
function send(base: string, path: string, o: { method?: string; headers?: Record<string, string>; body?: Buffer; chunked?: boolean } = {}): Promise<Reply | 'reset'> {
  return new Promise((resolve) => {
    const { hostname, port } = new URL(base);
    // The path goes out as written: a URL string would have its dot segments resolved client-side.
    const req = httpRequest({ hostname, port, path, method: o.method ?? 'GET', headers: o.headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', () => resolve('reset'));
    });
    req.on('error', () => resolve('reset'));
    req.on('timeout', () => req.destroy());
    if (o.body && o.chunked) {
      // No Content-Length: the server learns the size only while reading.
      for (let i = 0; i < o.body.length; i += 4096) req.write(o.body.subarray(i, i + 4096));
    } else if (o.body) {
      req.setHeader('Content-Length', o.body.length);
      req.write(o.body);
    }
    req.end();
  });
}

async function reply(base: string, path: string, o: Parameters<typeof send>[2] = {}): Promise<Reply> {
  const r = await send(base, path, o);
  if (r === 'reset') throw new Error(`${o.method ?? 'GET'} ${path}: connection reset`);
  return r;
}

/** The key ceremony through the wardcert-ca command, as hospital IT runs it (see ceremony.test.ts). */
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'wardcert-httpside-'));
  const rootDir = join(work, 'root');
  data = join(work, 'data');
  const steps = [
    ['root', 'init', '--dir', rootDir, '--subject', 'CN=HTTP Side Test Root,O=Test Hospital', '--algorithm', 'ecdsa-p384'],
    ['intermediate', 'request', '--data', data, '--subject', 'CN=HTTP Side Test Device CA,O=Test Hospital', '--algorithm', 'ecdsa-p256'],
    ['root', 'sign', '--dir', rootDir, '--csr', join(data, 'ca/intermediate.csr.pem'), '--out', join(work, 'intermediate.pem'),
      '--permit-dns', 'hospital.test', '--permit-ip', '127.0.0.0/8', '--days', '30'],
    ['intermediate', 'install', '--data', data, '--cert', join(work, 'intermediate.pem'), '--root', join(rootDir, 'root.crt.pem')],
  ];
  for (const args of steps) {
    const r = await runCa(args);
    if (r.code !== 0) throw new Error(`wardcert-ca ${args.join(' ')}: ${r.stderr}`);
  }
  files = { root: join(data, 'ca/root.crt.pem'), intermediate: join(data, 'ca/intermediate.crt.pem'), chain: join(work, 'chain.pem') };
  await writeFile(files.chain, `${await readFile(files.intermediate, 'utf8')}${await readFile(files.root, 'utf8')}`);
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

interface Location {
  options: StoreOptions;
  /** What `wardcert-ca issue` needs to record into the same store. */
  issueArgs: string[];
  dispose(): Promise<void>;
}

const backends = [
  { name: 'sqlite', enabled: true, location: async (): Promise<Location> => ({ options: { dataDir: data }, issueArgs: [], dispose: async () => {} }) },
  {
    name: 'postgres',
    enabled: runPostgresTests,
    async location(): Promise<Location> {
      const { url, drop } = await createPostgresSchema();
      return { options: { url }, issueArgs: ['--database', url], dispose: drop };
    },
  },
] as const;

for (const backend of backends) {
  describe.skipIf(!backend.enabled)(`HTTP side on ${backend.name}`, () => {
    let location: Location;
    let store: Store;
    let ca: IssuingCa;
    let crl: CrlPublisher;
    let server: Server;
    let base: string;
    const registry = new Registry();
    const cleanups: (() => Promise<void> | void)[] = [];
    let leaves = 0;

    /** A device certificate from the CLI, with CRL, OCSP and AIA URLs pointing at the server under test. */
    async function leaf(): Promise<{ file: string; serial: string }> {
      const name = `gw${++leaves}-${backend.name}`;
      const csr = makeCsr(work, name, { key: EC_P256, subject: `/CN=${name}.hospital.test`, san: `DNS:${name}.hospital.test` });
      const file = join(work, `${name}.pem`);
      const r = await runCa(['issue', '--data', data, '--csr', csr, '--profile', 'dicom-node', '--out', file, '--http-base', base, ...location.issueArgs]);
      if (r.code !== 0) throw new Error(`wardcert-ca issue: ${r.stderr}`);
      return { file, serial: new x509.X509Certificate(await readFile(file, 'utf8')).serialNumber.toLowerCase() };
    }

    const crlText = async () => {
      const file = join(work, `fetched-${backend.name}.crl`);
      await writeFile(file, (await reply(base, '/crl/intermediate.crl')).body);
      return openssl(['crl', '-inform', 'DER', '-in', file, '-CAfile', files.chain, '-noout', '-text']);
    };
    const crlNumber = (text: string) => BigInt(/X509v3 CRL Number:\s*\n?\s*(\d+)/.exec(text)?.[1] ?? -1);
    const ocspAsk = (l: { file: string }, extra: string[] = []) =>
      openssl(['ocsp', '-issuer', files.intermediate, '-cert', l.file, '-url', `${base}/ocsp`, '-CAfile', files.root, '-timeout', '10', ...extra]);

    beforeAll(async () => {
      location = await backend.location();
      cleanups.push(location.dispose);
      store = await openStore(location.options);
      cleanups.push(() => store.close());
      ca = await loadIssuingCa({ dataDir: data, passphrase: CA_PASSPHRASE });
      crl = createCrlPublisher({ store, ca, logger: silent, audit: createAuditRecorder({ store }) });
      await crl.start();
      cleanups.push(() => crl.stop());
      server = createHttpSideApp({ store, ca, crl, logger: silent, metrics: { registry } }).listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      cleanups.push(() => new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }, 60_000);

    afterAll(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    it('serves a CRL that openssl verifies, cacheable no longer than its nextUpdate, with 304 on a matching ETag', { timeout: 30_000 }, async () => {
      const res = await reply(base, '/crl/intermediate.crl');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/pkix-crl');
      const nextUpdate = new x509.X509Crl(new Uint8Array(res.body)).nextUpdate!;
      const maxAge = Number(/max-age=(\d+)/.exec(res.headers['cache-control'] ?? '')?.[1]);
      expect(maxAge).toBeGreaterThan(0);
      expect(maxAge).toBeLessThanOrEqual((nextUpdate.getTime() - Date.now()) / 1000 + 1);
      expect(await crlText()).toContain('verify OK');
      const etag = res.headers.etag!;
      expect((await reply(base, '/crl/intermediate.crl', { headers: { 'If-None-Match': etag } })).status).toBe(304);
      const head = await reply(base, '/crl/intermediate.crl', { method: 'HEAD' });
      expect([head.status, head.body.length, head.headers['content-length']]).toEqual([200, 0, String(res.body.length)]);
    });

    it('lists a revoked certificate in a CRL with a higher number, which openssl verify -crl_download uses', { timeout: 60_000 }, async () => {
      const [good, bad] = [await leaf(), await leaf()];
      const before = await crlText();
      const verify = (l: { file: string }) =>
        openssl(['verify', '-crl_check', '-crl_download', '-CAfile', files.root, '-untrusted', files.intermediate, l.file]);
      expect(await verify(bad)).toContain(': OK');

      expect(await store.certificates.markRevoked(bad.serial, 1, new Date())).toBe(true);
      await crl.regenerate('test revocation');
      const after = await crlText();
      expect(after).toContain('verify OK');
      expect(after).toContain(`Serial Number: ${bad.serial.toUpperCase()}`);
      expect(after).not.toContain(`Serial Number: ${good.serial.toUpperCase()}`);
      expect(crlNumber(after)).toBeGreaterThan(crlNumber(before));
      // openssl follows the leaf's CRL distribution point to this server.
      expect(await verify(bad)).toContain('certificate revoked');
      expect(await verify(good)).toContain(': OK');
    });

    it('answers OCSP over POST at the URL in the certificate: good, then revoked with reason and nonce', { timeout: 60_000 }, async () => {
      const l = await leaf();
      expect((await openssl(['x509', '-in', l.file, '-noout', '-ocsp_uri'])).trim()).toBe(`${base}/ocsp`);
      const good = await ocspAsk(l);
      expect(good).toContain('Response verify OK');
      expect(good).toContain(`${l.file}: good`);
      await store.certificates.markRevoked(l.serial, 5, new Date());
      const revoked = await ocspAsk(l, ['-nonce']);
      expect(revoked).toContain('Response verify OK');
      expect(revoked).toContain(`${l.file}: revoked`);
      expect(revoked).toContain('cessationOfOperation');
      expect(revoked).not.toContain('WARNING: no nonce');
    });

    it('answers OCSP over GET (RFC 6960 A.1), with the base64 percent-encoded or raw', { timeout: 60_000 }, async () => {
      const l = await leaf();
      const reqFile = join(work, `req-${backend.name}.der`);
      await openssl(['ocsp', '-issuer', files.intermediate, '-cert', l.file, '-reqout', reqFile, '-no_nonce']);
      const b64 = (await readFile(reqFile)).toString('base64');
      for (const path of [`/ocsp/${encodeURIComponent(b64)}`, `/ocsp/${b64}`]) {
        const res = await reply(base, path);
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('application/ocsp-response');
        const respFile = join(work, `resp-${backend.name}.der`);
        await writeFile(respFile, res.body);
        const parsed = await openssl(['ocsp', '-respin', respFile, '-issuer', files.intermediate, '-cert', l.file, '-CAfile', files.root]);
        expect(parsed).toContain('Response verify OK');
        expect(parsed).toContain(`${l.file}: good`);
      }
    });

    it('says unknown for a serial of this CA that the store has never seen', { timeout: 30_000 }, async () => {
      const out = await openssl(['ocsp', '-issuer', files.intermediate, '-serial', '0x4d3c2b1a', '-url', `${base}/ocsp`, '-CAfile', files.root, '-timeout', '10']);
      expect(out).toContain('Response verify OK');
      expect(out).toMatch(/0x4d3c2b1a: unknown/i);
    });

    it('answers garbage with malformedRequest or a 4xx, refuses oversized bodies, and keeps serving', { timeout: 30_000 }, async () => {
      const ocspHeaders = { 'Content-Type': 'application/ocsp-request' };
      for (const body of [Buffer.from('not der at all'), Buffer.alloc(0), Buffer.from('3082ffff', 'hex'), Buffer.from('3000', 'hex')]) {
        const res = await reply(base, '/ocsp', { method: 'POST', headers: ocspHeaders, body });
        expect(res.status).toBe(200);
        expect(res.body.toString('hex')).toBe(MALFORMED_REQUEST);
      }
      const garbageFile = join(work, `garbage-${backend.name}.der`);
      await writeFile(garbageFile, (await reply(base, '/ocsp/bm90IGFuIE9DU1AgcmVxdWVzdA%3D%3D')).body);
      expect(await openssl(['ocsp', '-respin', garbageFile, '-resp_text', '-noverify'])).toMatch(/malformedrequest/i);
      for (const path of ['/ocsp/%%%', '/ocsp/', `/ocsp/${'A'.repeat(12_000)}`, '/ocsp/..%2f..%2fetc%2fpasswd', '/ocsp/%00']) {
        const res = await reply(base, path);
        expect([path, res.status, res.body.toString('hex')]).toEqual([path, 200, MALFORMED_REQUEST]);
      }

      const big = Buffer.alloc(20_000, 0x30);
      expect((await reply(base, '/ocsp', { method: 'POST', headers: ocspHeaders, body: big })).status).toBe(413);
      const chunked = await send(base, '/ocsp', { method: 'POST', headers: ocspHeaders, body: big, chunked: true });
      expect(chunked === 'reset' || chunked.status === 413).toBe(true);
      expect((await reply(base, '/ocsp', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('x') })).status).toBe(415);
      expect((await reply(base, '/healthz')).body.toString()).toBe('ok\n');
    });

    it('serves the CA certificates: the AIA URL of a leaf, the root, and the chain issuing CA first', { timeout: 30_000 }, async () => {
      const l = await leaf();
      const aia = (await openssl(['x509', '-in', l.file, '-noout', '-ext', 'authorityInfoAccess'])).match(/CA Issuers - URI:(\S+)/)?.[1];
      expect(aia).toBe(`${base}/ca/intermediate.crt`);
      const inter = await reply(base, '/ca/intermediate.crt');
      expect(inter.headers['content-type']).toBe('application/pkix-cert');
      expect(inter.body.equals(Buffer.from(ca.cert.rawData))).toBe(true);
      const root = await reply(base, '/ca/root.crt');
      expect(root.headers['content-type']).toBe('application/pkix-cert');
      expect(root.body.equals(Buffer.from(ca.root.rawData))).toBe(true);
      const chain = (await reply(base, '/ca/chain.pem')).body.toString();
      const pems = chain.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)!;
      expect(pems.map((p) => new x509.X509Certificate(p).subject)).toEqual([ca.cert.subject, ca.root.subject]);
      const chainFile = join(work, `served-chain-${backend.name}.pem`);
      await writeFile(chainFile, chain);
      expect(await openssl(['verify', '-CAfile', files.root, '-untrusted', chainFile, l.file])).toContain(': OK');
    });

    it('answers 404 and 405 (with Allow), never a 5xx, to paths and methods it does not serve', { timeout: 30_000 }, async () => {
      const cases: [string, string, number, string?][] = [
        ['GET', '/', 404], ['GET', '/crl/', 404], ['GET', '/crl/intermediate.crl/x', 404], ['GET', '/CA/ROOT.CRT', 404],
        ['GET', '/ca/../ca/root.crt', 404], ['GET', '/constructor', 404], ['POST', '/nothing', 404],
        ['DELETE', '/ca/root.crt', 405, 'GET, HEAD'], ['POST', '/crl/intermediate.crl', 405, 'GET, HEAD'],
        ['PUT', '/healthz', 405, 'GET, HEAD'], ['GET', '/ocsp', 405, 'POST'], ['OPTIONS', '/ocsp', 405, 'POST'],
        ['PROPFIND', '/ocsp/x', 405, 'GET, HEAD'],
      ];
      for (const [method, path, status, allow] of cases) {
        const res = await reply(base, path, { method });
        expect([method, path, res.status, res.headers.allow]).toEqual([method, path, status, allow]);
        expect(res.body.toString()).not.toMatch(/ at |Error/);
      }
    });

    it('reports health, and counts responses by route', { timeout: 30_000 }, async () => {
      const ok = await reply(base, '/healthz');
      expect([ok.status, ok.body.toString()]).toEqual([200, 'ok\n']);
      const metrics = await registry.getSingleMetricAsString('wardcert_http_side_responses_total');
      expect(metrics).toMatch(/route="healthz",status="200"\} [1-9]/);
      expect(metrics).toMatch(/route="ocsp",status="413"\} [1-9]/);
      expect(metrics).toMatch(/route="none",status="404"\} [1-9]/);
    });
  });
}

describe('HTTP side without its store', () => {
  it('answers 503 with a short text, no stack trace, when the store is gone', { timeout: 30_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wardcert-httpside-down-'));
    const store = await openStore({ dataDir: dir });
    const ca = await loadIssuingCa({ dataDir: data, passphrase: CA_PASSPHRASE });
    const crl = createCrlPublisher({ store, ca, logger: silent, audit: createAuditRecorder({ store }) });
    const server = createHttpSideApp({ store, ca, crl, logger: silent }).listen(0, '127.0.0.1');
    try {
      await new Promise((r) => server.once('listening', r));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect((await reply(base, '/healthz')).status).toBe(200);
      const ocspRequest = join(dir, 'req.der');
      await openssl(['ocsp', '-issuer', files.intermediate, '-serial', '0x4d3c2b1a', '-reqout', ocspRequest, '-no_nonce']);
      await store.close();
      const requests: [string, Parameters<typeof send>[2]][] = [
        ['/healthz', {}],
        ['/crl/intermediate.crl', {}],
        ['/ocsp', { method: 'POST', headers: { 'Content-Type': 'application/ocsp-request' }, body: await readFile(ocspRequest) }],
      ];
      for (const [path, o] of requests) {
        const res = await reply(base, path, o);
        expect([path, res.status, res.headers['content-type']]).toEqual([path, 503, 'text/plain; charset=utf-8']);
        expect(res.body.toString()).toMatch(/^[a-z ]+\n$/);
      }
      // The CA certificates need no store.
      expect((await reply(base, '/ca/root.crt')).status).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
