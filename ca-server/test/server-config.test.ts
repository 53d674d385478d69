import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../src/config/server-config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wardcert-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(text: string) {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(path, text);
  return loadServerConfig(path);
}

describe('the serve configuration', () => {
  it('fills defaults and resolves paths against the file', async () => {
    const c = await load('data: ./ca\nserver: { names: [ca.hospital.test] }\nacme: { allow: { dns: [.Hospital.Test], ip: [10.20.0.0/16] } }\n');
    expect(c.data).toBe(join(dir, 'ca'));
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 8443, httpPort: 8080 });
    expect(c.acme.requireEab).toBe(true);
    expect(c.acme.allow.dns).toEqual(['hospital.test']);
    expect(c.validation).toEqual({ http01Port: 80, tlsAlpn01Port: 443, timeout: 10_000 });
  });

  it('names the key of every error', async () => {
    const err = await load(
      'data: ./ca\nlisten: { port: 70000 }\nserver: { names: [] }\nacme: { allow: { dns: ["bad suffix"], ip: [10.0.0.0/33] }, orderLifetime: soon }\nvalidation: { resolver: nowhere }\nsurprise: 1\n',
    ).catch((e: Error) => e);
    const text = String(err);
    for (const key of ['listen.port', 'server.names', 'acme.allow.dns.0', 'acme.allow.ip.0', 'acme.orderLifetime', 'validation.resolver', '(top level)']) {
      expect(text).toContain(`: ${key}: `);
    }
  });

  it('takes the balancer\'s URLs for instances behind one, and only https for ACME', async () => {
    const c = await load('data: ./ca\nserver: { names: [ca.hospital.test], acmeBase: "https://ca.hospital.test:8443", httpBase: "http://ca.hospital.test:8080" }\nacme: { allow: { dns: [hospital.test] } }\n');
    expect(c.server.acmeBase).toBe('https://ca.hospital.test:8443');
    const err = await load('data: ./ca\nserver: { names: [ca.hospital.test], acmeBase: "http://ca.hospital.test:8443" }\nacme: { allow: { dns: [hospital.test] } }\n').catch((e: Error) => e);
    expect(String(err)).toContain(': server.acmeBase: ');
  });

  it('has load-shedding bounds by default, takes others, and names a bound below 1', async () => {
    const base = 'data: ./ca\nserver: { names: [ca.hospital.test] }\nacme: { allow: { dns: [hospital.test] } }\n';
    expect((await load(base)).admission).toEqual({ maxValidationBacklog: 256, maxFinalizing: 32, maxInFlight: 256, maxConnections: 512, handshakeTimeout: 10_000, retryAfter: 2000 });
    expect((await load(`${base}admission: { maxInFlight: 1000, retryAfter: 5s }\n`)).admission).toMatchObject({ maxInFlight: 1000, retryAfter: 5000 });
    const err = await load(`${base}admission: { maxFinalizing: 0, queue: 3 }\n`).catch((e: Error) => e);
    expect(String(err)).toContain(': admission.maxFinalizing: ');
    expect(String(err)).toContain(': admission: ');
  });

  it('reports broken YAML with the file name', async () => {
    await expect(load('data: [unclosed\n')).rejects.toThrow(/\.yaml: /);
  });
});
