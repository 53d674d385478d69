import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { initRoot, installIntermediate, requestIntermediate, signIntermediateRequest } from '../src/ca/ceremony.js';
import { loadIssuingCa, type IssuingCa } from '../src/pki/issuing-ca.js';
import { caLayout, rootLayout } from '../src/pki/layout.js';
import { createAuditRecorder } from '../src/audit/recorder.js';
import { createCrlPublisher, type CrlPublisher } from '../src/revocation/index.js';
import { openStore, type NewCertificate, type Store } from '../src/store/index.js';
import { openssl } from './helpers/openssl.js';
import { storeBackends, type StoreLocation } from './helpers/store-backends.js';

const PASS = 'crl publisher test passphrase';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const silent = pino({ level: 'silent' });

let work: string;
let ca: IssuingCa;
let chainFile: string;

/** The ceremony in-process (the CLI's own test drives the command): root P-384, issuing CA P-256. */
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'wardcert-crlpub-'));
  const rootDir = join(work, 'root');
  const data = join(work, 'data');
  await initRoot({ dir: rootDir, subject: 'CN=CRL Test Root', algorithm: 'ecdsa-p384', years: 2, passphrase: PASS, force: false });
  await requestIntermediate({ data, subject: 'CN=CRL Test Device CA', algorithm: 'ecdsa-p256', passphrase: PASS, force: false });
  await signIntermediateRequest({
    rootDir, rootPassphrase: PASS, csrPem: await readFile(caLayout(data).csr, 'utf8'), out: join(work, 'int.pem'), days: 30,
    constraints: { permitDns: ['hospital.test'], permitIp: [], excludeDns: [], excludeIp: [] }, force: false,
  });
  await installIntermediate({ data, certPem: await readFile(join(work, 'int.pem'), 'utf8'), rootPem: await readFile(rootLayout(rootDir).cert, 'utf8'), rootSource: 'root', force: false });
  ca = await loadIssuingCa({ dataDir: data, passphrase: PASS });
  chainFile = join(work, 'chain.pem');
  await writeFile(chainFile, `${ca.cert.toString('pem')}\n${ca.root.toString('pem')}\n`);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** A certificate row as issuance would record it; the DER is never parsed on this path. */
function certificate(serial: string, o: { notAfter?: Date; issuerKeyId?: string } = {}): NewCertificate {
  return {
    serial, profile: 'dicom-node', subject: `CN=${serial}.hospital.test`, identifiers: [{ type: 'dns', value: `${serial}.hospital.test` }],
    notBefore: new Date(Date.now() - 10 * DAY), notAfter: o.notAfter ?? new Date(Date.now() + DAY),
    der: Uint8Array.from([0x30, 0x00]), issuerKeyId: o.issuerKeyId ?? ca.keyId, spkiSha256: serial.padEnd(64, '0'),
  };
}

/** What openssl makes of a stored CRL: it must verify against the chain; returns its text. */
async function opensslCrl(der: Uint8Array): Promise<{ text: string; number: bigint; serials: string[] }> {
  const file = join(work, `crl-${Date.now()}-${Math.random()}.der`);
  await writeFile(file, der);
  const { output } = openssl(['crl', '-inform', 'DER', '-in', file, '-CAfile', chainFile, '-noout', '-text']);
  expect(output).toContain('verify OK');
  const number = /X509v3 CRL Number:\s*\n?\s*(\d+)/.exec(output)?.[1];
  const serials = [...output.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => m[1]!.toLowerCase());
  return { text: output, number: BigInt(number ?? -1), serials };
}

/** A logger whose 'crl.signed' events the test can read. */
function recordingLogger() {
  const signed: bigint[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      const line = JSON.parse(String(chunk)) as { event?: string; number?: string };
      if (line.event === 'crl.signed') signed.push(BigInt(line.number!));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), signed };
}

const backends = storeBackends('wardcert-crlpub-store');

for (const backend of backends) {
  describe.skipIf(!backend.enabled)(`CRL publisher on ${backend.name}`, () => {
    let location: StoreLocation;
    let store: Store;
    // Filled as each resource comes up, so a failed setup never closes another test's resources.
    const cleanups: (() => Promise<void> | void)[] = [];
    const publisher = (o: { store?: Store; logger?: pino.Logger; validityMs?: number; regenerateBeforeMs?: number } = {}): CrlPublisher => {
      const p = createCrlPublisher({ store: o.store ?? store, ca, logger: o.logger ?? silent, audit: createAuditRecorder({ store: o.store ?? store }), ...(o.validityMs ? { validityMs: o.validityMs, regenerateBeforeMs: o.regenerateBeforeMs } : {}) });
      cleanups.push(() => p.stop());
      return p;
    };

    beforeEach(async () => {
      location = await backend.location();
      cleanups.push(location.dispose);
      store = await openStore(location.options);
      cleanups.push(() => store.close());
    });

    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    it('signs the first CRL on demand and serves it until it is due', { timeout: 20_000 }, async () => {
      const crl = publisher();
      const before = Date.now();
      const first = await crl.current();
      expect(first.number).toBe(1n);
      expect(first.nextUpdate.getTime() - first.thisUpdate.getTime()).toBe(DAY);
      expect(first.thisUpdate.getTime()).toBeGreaterThanOrEqual(before - 1000);
      const parsed = new x509.X509Crl(Buffer.from(first.der));
      expect(parsed.issuer).toBe(ca.cert.subject);
      expect(parsed.entries).toHaveLength(0);
      const { text, number } = await opensslCrl(first.der);
      expect(number).toBe(1n);
      expect(text).toContain('Version 2');
      expect(text).toContain('Authority Key Identifier');
      expect((await crl.current()).number).toBe(1n);
    });

    it("lists this issuer's revocations, drops those expired over a day ago, and numbers grow", { timeout: 20_000 }, async () => {
      const crl = publisher();
      const now = Date.now();
      const rows = {
        live: certificate('4a01'),
        justExpired: certificate('4a02', { notAfter: new Date(now - 2 * HOUR) }),
        longExpired: certificate('4a03', { notAfter: new Date(now - 2 * DAY) }),
        otherIssuer: certificate('4a04', { issuerKeyId: 'ff'.repeat(20) }),
        notRevoked: certificate('4a05'),
      };
      for (const row of Object.values(rows)) await store.certificates.insert(row);
      const before = (await crl.current()).number;
      await store.certificates.markRevoked('4a01', 1, new Date(now - 1000));
      for (const serial of ['4a02', '4a03', '4a04']) await store.certificates.markRevoked(serial, 0, new Date(now - 1000));
      await crl.regenerate('test');
      const after = await crl.current();
      expect(after.number).toBe(before + 1n);
      const { text, serials, number } = await opensslCrl(after.der);
      expect(number).toBe(after.number);
      expect(serials.sort()).toEqual(['4a01', '4a02']);
      expect(text).toContain('Key Compromise');
    });

    it('lets several instances race: one signs at a time, numbers distinct and increasing, no error', { timeout: 30_000 }, async () => {
      const second = await openStore(location.options); // another server instance on the same database
      cleanups.push(() => second.close());
      const a = recordingLogger();
      const b = recordingLogger();
      const one = publisher({ logger: a.logger });
      const two = publisher({ store: second, logger: b.logger });
      const before = (await one.current()).number;
      a.signed.length = 0;
      await Promise.all([1, 2, 3, 4, 5, 6].map((i) => (i % 2 ? one : two).regenerate(`race ${i}`)));
      const numbers = [...a.signed, ...b.signed].sort((x, y) => (x < y ? -1 : 1));
      expect(numbers).toEqual([1n, 2n, 3n, 4n, 5n, 6n].map((n) => before + n));
      const stored = await two.current();
      expect(stored.number).toBe(before + 6n);
      expect((await opensslCrl(stored.der)).number).toBe(before + 6n);
    });

    it('takes over the lease of an instance that died while holding it', { timeout: 20_000 }, async () => {
      const crl = publisher();
      const before = (await crl.current()).number;
      const now = new Date();
      expect(await store.crls.lease(ca.keyId, now, new Date(now.getTime() + 500))).toBe(before);
      const started = Date.now();
      await crl.regenerate('after a crash');
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect((await crl.current()).number).toBe(before + 1n);
    });

    it('publishes only under its own lease and only a higher number', async () => {
      const der = Uint8Array.from([0x30, 0x00]);
      const at = new Date();
      const crl = (number: bigint) => ({ number, der, thisUpdate: at, nextUpdate: new Date(at.getTime() + DAY) });
      const mine = new Date(Date.now() + 60_000);
      expect(await store.crls.lease('k1', new Date(), mine)).toBe(0n);
      expect(await store.crls.lease('k1', new Date(), new Date(Date.now() + 60_000))).toBeUndefined();
      expect(await store.crls.publish('k1', new Date(mine.getTime() + 1), crl(1n))).toBe(false);
      await store.crls.release('k1', new Date(mine.getTime() + 1)); // not this lease: it stays
      expect(await store.crls.lease('k1', new Date(), new Date(Date.now() + 60_000))).toBeUndefined();
      expect(await store.crls.publish('k1', mine, crl(0n))).toBe(false);
      expect(await store.crls.publish('k1', mine, crl(1n))).toBe(true);
      expect(await store.crls.current('k1')).toMatchObject({ number: 1n, thisUpdate: at });
      expect(await store.crls.current('k2')).toBeUndefined();
      // Publishing ended the lease; a later holder whose lease expired cannot publish over a newer one.
      const next = new Date(Date.now() + 60_000);
      expect(await store.crls.lease('k1', new Date(), next)).toBe(1n);
      expect(await store.crls.publish('k1', mine, crl(2n))).toBe(false);
      expect(await store.crls.publish('k1', next, crl(2n))).toBe(true);
    });

    it('re-signs before nextUpdate, lists a revocation whose regenerate never ran, and stops', { timeout: 30_000 }, async () => {
      // nextUpdate 3 s ahead, re-signed 1 s before it: the store is checked every 250 ms.
      const crl = publisher({ validityMs: 3000, regenerateBeforeMs: 1000 });
      await crl.start();
      const first = (await store.crls.current(ca.keyId))!;
      await vi.waitFor(async () => expect((await crl.current()).number).toBeGreaterThan(first.number), { timeout: 5000, interval: 100 });
      const renewed = await crl.current();
      expect(renewed.thisUpdate.getTime()).toBeGreaterThanOrEqual(first.nextUpdate.getTime() - 1000);

      await store.certificates.insert(certificate('4b01'));
      await store.certificates.markRevoked('4b01', 4, new Date());
      await vi.waitFor(async () => expect(new x509.X509Crl(Buffer.from((await crl.current()).der)).findRevoked('4b01')).toBeTruthy(), { timeout: 1500, interval: 50 });

      crl.stop();
      const stopped = (await store.crls.current(ca.keyId))!.number;
      await new Promise((r) => setTimeout(r, 2500));
      expect((await store.crls.current(ca.keyId))!.number).toBe(stopped);
    });

    it('signs a fresh CRL on demand when the stored one has expired', { timeout: 20_000 }, async () => {
      const crl = publisher({ validityMs: 600, regenerateBeforeMs: 300 });
      const first = await crl.current();
      await new Promise((r) => setTimeout(r, 700));
      const next = await crl.current();
      expect(next.number).toBe(first.number + 1n);
      expect(next.nextUpdate.getTime()).toBeGreaterThan(Date.now());
    });
  });
}

describe('CRL publisher options', () => {
  it('refuses timings where the CRL would be due as soon as it is signed', () => {
    const store = {} as Store;
    expect(() => createCrlPublisher({ store, ca, logger: silent, audit: createAuditRecorder({ store }), validityMs: HOUR, regenerateBeforeMs: HOUR })).toThrow(RangeError);
    expect(() => createCrlPublisher({ store, ca, logger: silent, audit: createAuditRecorder({ store }), regenerateBeforeMs: 0 })).toThrow(RangeError);
    expect(() => createCrlPublisher({ store, ca, logger: silent, audit: createAuditRecorder({ store }), validityMs: Number.NaN })).toThrow(RangeError);
  });
});
