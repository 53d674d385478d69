import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../src/config/server-config.js';
import { bearerMatches, createMetrics, metricHooks, registerStoreGauges } from '../src/server/metrics.js';
import type { RunningServer } from '../src/server/server.js';
import { openStore, type NewCertificate, type Store } from '../src/store/index.js';
import { TestAcmeClient } from './helpers/acme-client.js';
import { startAcmeFixture, type AcmeFixture } from './helpers/acme-fixture.js';
import { serverOnFixture } from './helpers/running-server.js';
import { issueThroughFixture, until } from './helpers/acme-flow.js';
import { storeBackends, type StoreLocation } from './helpers/store-backends.js';

const HOUR = 3_600_000;
const NOW = new Date('2027-01-04T08:00:00Z');

function cert(serial: string, notAfterFromNow: number, extra: Partial<NewCertificate> = {}): NewCertificate {
  return {
    serial, profile: 'dicom-node', subject: 'CN=x', identifiers: [{ type: 'dns', value: 'x.hospital.test' }],
    notBefore: new Date(NOW.getTime() - 72 * HOUR), notAfter: new Date(NOW.getTime() + notAfterFromNow),
    der: new Uint8Array([1]), issuerKeyId: 'aa', spkiSha256: serial, ...extra,
  };
}

/** The value of one sample of the registry's text output, e.g. sample(text, 'wardcert_agents_silent'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const report = (listeners: { kind: 'dicom' | 'hl7'; ok: boolean | null }[]) => ({
  certificate: null, nextRenewal: null, lastError: null, agentVersion: '0.1.0', updatedAt: NOW.toISOString(),
  listeners: listeners.map((l, i) => ({ ...l, listen: `0.0.0.0:${2760 + i}`, servedSerial: null })),
});

for (const backend of storeBackends('wardcert-metrics')) {
  describe.skipIf(!backend.enabled)(`store gauges on ${backend.name}`, () => {
    let location: StoreLocation;
    let store: Store;
    let metrics: ReturnType<typeof createMetrics>;
    beforeEach(async () => {
      location = await backend.location();
      store = await openStore(location.options);
      metrics = createMetrics();
      registerStoreGauges(metrics, store, { agentSilentAfterMs: 15 * 60_000, now: () => NOW });
    });
    afterEach(async () => {
      await store.close();
      await location.dispose();
    });

    it('counts valid certificates expiring within 24 h and within 7 days, at scrape time', async () => {
      const text0 = await metrics.registry.metrics();
      expect(sample(text0, 'wardcert_certificates_expiring{within="24h"}')).toBe(0);
      await store.certificates.insert(cert('01', 1 * HOUR));
      await store.certificates.insert(cert('02', 24 * HOUR)); // exactly at the edge: within
      await store.certificates.insert(cert('03', 3 * 24 * HOUR));
      await store.certificates.insert(cert('04', 10 * 24 * HOUR));
      await store.certificates.insert(cert('05', -HOUR)); // expired already
      await store.certificates.insert(cert('06', 2 * HOUR));
      await store.certificates.markRevoked('06', 1, NOW); // revoked: not expiring, gone
      const text = await metrics.registry.metrics();
      expect(sample(text, 'wardcert_certificates_expiring{within="24h"}')).toBe(2);
      expect(sample(text, 'wardcert_certificates_expiring{within="7d"}')).toBe(3);
    });

    it('counts silent agents of valid accounts, and failing listener probes from the newest reports', async () => {
      const account = async (thumbprint: string) => store.accounts.create({ thumbprint, jwk: {}, contact: [], eabKid: null, deviceId: null, allowedIdentifiers: null }, NOW);
      const fresh = await account('fresh');
      const silent = await account('silent');
      const gone = await account('gone');
      await store.accounts.update(gone.id, { status: 'deactivated' });
      const save = (id: string, agoMs: number, listeners: { kind: 'dicom' | 'hl7'; ok: boolean | null }[]) =>
        store.agentReports.save({ accountId: id, deviceId: null, report: report(listeners), remoteAddress: null, receivedAt: new Date(NOW.getTime() - agoMs) });
      await save(fresh.id, 60_000, [{ kind: 'dicom', ok: false }, { kind: 'hl7', ok: false }, { kind: 'dicom', ok: true }]);
      await save(silent.id, 20 * 60_000, [{ kind: 'dicom', ok: false }, { kind: 'hl7', ok: null }]);
      await save(gone.id, 24 * HOUR, [{ kind: 'hl7', ok: true }]);
      let text = await metrics.registry.metrics();
      expect(sample(text, 'wardcert_agents_silent')).toBe(1);
      expect(sample(text, 'wardcert_listener_probe_failures{kind="dicom"}')).toBe(2);
      expect(sample(text, 'wardcert_listener_probe_failures{kind="hl7"}')).toBe(1);
      // A newer report replaces the older one: the probes recovered, the agent speaks again.
      await save(fresh.id, 0, [{ kind: 'dicom', ok: true }, { kind: 'hl7', ok: true }]);
      await save(silent.id, 0, [{ kind: 'dicom', ok: true }]);
      text = await metrics.registry.metrics();
      expect(sample(text, 'wardcert_agents_silent')).toBe(0);
      expect(sample(text, 'wardcert_listener_probe_failures{kind="dicom"}')).toBe(0);
      expect(sample(text, 'wardcert_listener_probe_failures{kind="hl7"}')).toBe(0);
    });

    it.skipIf(backend.name !== 'sqlite')('counts expiring certificates through an index, not a table scan', async () => {
      const plan = await store.knex.raw(
        "explain query plan select count(*) from certificates where status = 'valid' and not_after > ? and not_after <= ?",
        [NOW.getTime(), NOW.getTime() + 24 * HOUR],
      );
      const detail = (plan as { detail: string }[]).map((r) => r.detail).join(' | ');
      // Whichever index leads with (status, not_after): the count is a range search in it.
      expect(detail).toMatch(/SEARCH certificates USING (COVERING )?INDEX certificates_\w+_idx \(status=\? AND not_after>\? AND not_after<\?\)/);
      expect(detail).not.toMatch(/^SCAN certificates$/);
    });
  });
}

describe('the bearer token comparison', () => {
  it('accepts exactly the token, as a Bearer credential', () => {
    const token = 'prometheus-scrapes-here-0123456789';
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`Bearer ${token}x`, token)).toBe(false);
    expect(bearerMatches(`Bearer ${token.slice(0, -1)}`, token)).toBe(false);
    expect(bearerMatches(`Basic ${token}`, token)).toBe(false);
    expect(bearerMatches(token, token)).toBe(false);
    expect(bearerMatches(undefined, token)).toBe(false);
    expect(bearerMatches('Bearer ', token)).toBe(false);
  });
});

describe('/metrics of a running server', () => {
  let f: AcmeFixture;
  let server: RunningServer;
  const TOKEN = 'scrape-token-for-prometheus-0123456789';
  beforeAll(async () => {
    f = await startAcmeFixture();
    server = await serverOnFixture(f, ['metrics: { bearerTokenFile: metrics.token, agentSilentAfter: 10m }'], { 'metrics.token': `${TOKEN}\n` });
  });
  afterAll(async () => {
    await server?.close();
    await f?.close();
  });
  const scrape = (headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${server.httpPort}/metrics`, { headers });

  it('answers 401 without the configured bearer token, and the metrics with it', async () => {
    const refused: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token-wrong-token' }, { authorization: `Basic ${TOKEN}` }];
    for (const headers of refused) {
      const res = await scrape(headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await res.text()).not.toContain('wardcert_');
    }
    const ok = await scrape({ authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    const text = await ok.text();
    for (const name of ['wardcert_certificates_expiring', 'wardcert_agents_silent', 'wardcert_listener_probe_failures', 'wardcert_certificates_issued_total', 'wardcert_validations_total']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    // The server's own HTTPS certificate counts as an issuance under ca-tls.
    expect(sample(text, 'wardcert_certificates_issued_total{profile="ca-tls"}')).toBeGreaterThanOrEqual(1);
  });

  it('refuses a config that gives the token both inline and as a file', async () => {
    const path = join(f.dir, 'etc', 'both.yaml');
    await writeFile(path, 'data: ..\nserver: { names: [127.0.0.1] }\nacme: { allow: { dns: [hospital.test] } }\nmetrics: { bearerToken: aaaaaaaaaaaaaaaaaaaa, bearerTokenFile: x }\n');
    await expect(loadServerConfig(path)).rejects.toThrow(/metrics: give bearerToken or bearerTokenFile, not both/);
  });
});

describe('issuance, revocation, validation and latency through the ACME app', () => {
  let f: AcmeFixture;
  const metrics = createMetrics();
  beforeAll(async () => {
    f = await startAcmeFixture({}, { metrics: metricHooks(metrics) });
  });
  afterAll(async () => {
    await f?.close();
  });

  it('counts certificates issued and revoked by profile, validations by type and result, and request latency by endpoint', async () => {
    const c = await TestAcmeClient.create(f.directoryUrl);
    expect((await c.register(await f.store.eab.create({ identifiers: [] }, new Date()))).status).toBe(201);
    const { chain } = await issueThroughFixture(f, c, [{ type: 'ip', value: '127.0.0.3' }]);
    await issueThroughFixture(f, c, [{ type: 'ip', value: '127.0.0.4' }], { profile: 'hl7-endpoint' });
    let text = await metrics.registry.metrics();
    expect(sample(text, 'wardcert_certificates_issued_total{profile="dicom-node"}')).toBe(1);
    expect(sample(text, 'wardcert_certificates_issued_total{profile="hl7-endpoint"}')).toBe(1);
    expect(text).not.toContain('wardcert_certificates_revoked_total{');
    const der = Buffer.from(chain.split('-----END CERTIFICATE-----')[0]!.replace(/-----BEGIN CERTIFICATE-----|\s/g, ''), 'base64');
    expect((await c.post(c.directory.revokeCert, { certificate: der.toString('base64url') })).status).toBe(200);
    // A second attempt is refused (alreadyRevoked) and counts nothing.
    expect((await c.post(c.directory.revokeCert, { certificate: der.toString('base64url') })).status).toBe(400);
    text = await metrics.registry.metrics();
    expect(sample(text, 'wardcert_certificates_revoked_total{profile="dicom-node"}')).toBe(1);
    expect(sample(text, 'wardcert_validations_total{type="http-01",result="valid"}')).toBe(2);

    // A challenge nobody answers: an invalid http-01 result.
    const order = await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.5' }] });
    const authz = await c.post(order.body.authorizations[0], undefined);
    await c.post(authz.body.challenges.find((ch: any) => ch.type === 'http-01').url, {});
    await until(async () => sample(await metrics.registry.metrics(), 'wardcert_validations_total{type="http-01",result="invalid"}'), (v) => v === 1);
    text = await metrics.registry.metrics();
    expect(sample(text, 'wardcert_validations_total{type="http-01",result="invalid"}')).toBe(1);
    expect(sample(text, 'wardcert_acme_request_duration_seconds_count{endpoint="new-order",method="POST",status="201"}')).toBe(3);
    expect(sample(text, 'wardcert_acme_request_duration_seconds_count{endpoint="directory",method="GET",status="200"}')).toBeGreaterThanOrEqual(1);
  });
});
