import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { issueOwnCertificate, scheduleOwnRenewal, type OwnCertificate } from '../src/server/own-certificate.js';
import { startAcmeFixture, type AcmeFixture } from './helpers/acme-fixture.js';

let f: AcmeFixture;
beforeAll(async () => {
  f = await startAcmeFixture();
});
afterAll(async () => {
  await f?.close();
});

describe("the server's own HTTPS certificate", () => {
  it('is issued under ca-tls for its names, recorded, and its key never written', async () => {
    const own = await issueOwnCertificate({
      store: f.store, ca: f.acme.ca, profile: f.acme.profiles.get('ca-tls')!, names: ['ca.hospital.test', '127.0.0.1'],
      httpBase: 'http://ca.hospital.test:8080', certFile: join(f.dir, 'server/tls.crt.pem'),
    });
    const leaf = new x509.X509Certificate(own.cert.split(/(?<=-----END CERTIFICATE-----)\n/)[0]!);
    expect(leaf.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => n.value)).toEqual(['ca.hospital.test', '127.0.0.1']);
    expect(leaf.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([x509.ExtendedKeyUsage.serverAuth]);
    expect((await f.store.certificates.bySerial(own.serial))!.profile).toBe('ca-tls');
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(join(f.dir, 'server'))).toEqual(['tls.crt.pem']);
  });

  it('is renewed at two thirds of its life, and retried a minute later when renewal fails', async () => {
    vi.useFakeTimers();
    try {
      const start = Date.now();
      const first: OwnCertificate = { key: 'k', cert: 'c', serial: '01', notAfter: new Date(start + 9 * 3600_000) };
      const applied: string[] = [];
      let fail = true;
      const renew = vi.fn(async () => {
        if (fail) {
          fail = false;
          throw new Error('CA busy');
        }
        return { ...first, serial: '02', notAfter: new Date(Date.now() + 9 * 3600_000) };
      });
      const stop = scheduleOwnRenewal(first, renew, (c) => applied.push(c.serial), pino({ level: 'silent' }));
      await vi.advanceTimersByTimeAsync(6 * 3600_000 - 1000);
      expect(renew).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(2000);
      expect(renew).toHaveBeenCalledTimes(1);
      expect(applied).toEqual([]);
      await vi.advanceTimersByTimeAsync(61_000);
      expect(renew).toHaveBeenCalledTimes(2);
      expect(applied).toEqual(['02']);
      stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
