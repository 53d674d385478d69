import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowListBeyondConstraints } from '../src/server/policy-warnings.js';
import { issueAndRecord } from '../src/ca/issue-and-record.js';
import { checkCsr } from '../src/pki/csr.js';
import { deviceCsr, startAcmeFixture, type AcmeFixture } from './helpers/acme-fixture.js';
import { runCa } from './helpers/cli.js';

let f: AcmeFixture;
beforeAll(async () => {
  f = await startAcmeFixture();
});
afterAll(async () => {
  await f?.close();
});

describe('wardcert-ca eab create', () => {
  it('prints {kid, hmacKey} as JSON, bound to a device and its identifiers', async () => {
    const r = await runCa(['eab', 'create', '--data', f.dir, '--device', 'ct-scanner-2', '--identifiers', 'ct2.hospital.test', '.mr.hospital.test', '10.20.3.0/24', '--json']);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(['hmacKey', 'kid']);
    expect(Buffer.from(out.hmacKey, 'base64url')).toHaveLength(32);
    const stored = await f.store.eab.byKid(out.kid);
    expect(stored).toMatchObject({ deviceId: 'ct-scanner-2', identifiers: ['ct2.hospital.test', '.mr.hospital.test', '10.20.3.0/24'], accountId: null });
  });

  it('never hands out an HMAC key that a command line would read as an option', async () => {
    const keys = await Promise.all(Array.from({ length: 300 }, () => f.store.eab.create({ identifiers: [] }, new Date())));
    expect(keys.filter((k) => k.hmacKey.startsWith('-'))).toEqual([]);
  });

  it('refuses malformed identifiers and a missing store', async () => {
    expect((await runCa(['eab', 'create', '--data', f.dir, '--identifiers', 'not a name'])).stderr).toContain('not a DNS suffix');
    expect((await runCa(['eab', 'create', '--data', f.dir, '--identifiers', '10.0.0.0/40'])).stderr).toContain('not a CIDR');
    expect((await runCa(['eab', 'create'])).stderr).toContain('--data DIR, --config FILE or --database URL');
  });
});

describe('wardcert-ca renew-now', () => {
  it('pulls the ARI window of the chosen certificates into the past', async () => {
    const serials: string[] = [];
    for (const name of ['r1.hospital.test', 'r2.hospital.test']) {
      const { csr } = await deviceCsr([{ type: 'dns', value: name }]);
      const request = await checkCsr(new Uint8Array(Buffer.from(csr, 'base64url')));
      serials.push((await issueAndRecord(f.store, { ca: f.acme.ca, profile: f.acme.profiles.get('hl7-endpoint')!, request })).serial);
    }
    const one = await runCa(['renew-now', '--data', f.dir, '--serial', serials[0]!]);
    expect(one.stdout).toContain('1 certificate(s) told to renew now');
    expect((await f.store.certificates.bySerial(serials[0]!))!.renewBy).not.toBeNull();
    expect((await f.store.certificates.bySerial(serials[1]!))!.renewBy).toBeNull();
    const byProfile = await runCa(['renew-now', '--data', f.dir, '--profile', 'hl7-endpoint']);
    expect(byProfile.stdout).toContain('2 certificate(s)');
  });

  it('wants exactly one selection', async () => {
    expect((await runCa(['renew-now', '--data', f.dir])).stderr).toContain('exactly one of --serial, --profile and --all');
    expect((await runCa(['renew-now', '--data', f.dir, '--all', '--profile', 'x'])).stderr).toContain('exactly one');
    expect((await runCa(['renew-now', '--data', f.dir, '--serial', 'xyz'])).stderr).toContain('not a hex serial');
  });
});

describe('the start-up policy check', () => {
  it('names allow-list entries beyond the name constraints', () => {
    const constraints = { permitDns: ['radiology.hospital.test'], permitIp: ['10.20.0.0/16'], excludeDns: [], excludeIp: [] };
    const warnings = allowListBeyondConstraints(['radiology.hospital.test', 'hospital.test'], ['10.20.5.0/24', '10.30.0.0/16'], constraints);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('DNS hospital.test');
    expect(warnings[1]).toContain('IP 10.30.0.0/16');
  });
});

describe('commands beside a running server on SQLite', () => {
  it("never cost the server its view of the database (the root-key search leaves database files alone)", async () => {
    const { loadIssuingCa } = await import('../src/pki/issuing-ca.js');
    const { FIXTURE_PASSPHRASE } = await import('./helpers/acme-fixture.js');
    // The server's store is open; loading the CA again searches the data directory.
    await loadIssuingCa({ dataDir: f.dir, passphrase: FIXTURE_PASSPHRASE });
    expect((await runCa(['eab', 'create', '--data', f.dir, '--json'])).code).toBe(0);
    const { csr } = await deviceCsr([{ type: 'dns', value: 'after.hospital.test' }]);
    const request = await checkCsr(new Uint8Array(Buffer.from(csr, 'base64url')));
    const { serial } = await issueAndRecord(f.store, { ca: f.acme.ca, profile: f.acme.profiles.get('dicom-node')!, request });
    // A write the server made after the command ran is visible to the next command.
    expect((await runCa(['renew-now', '--data', f.dir, '--serial', serial])).stdout).toContain('1 certificate(s)');
  });
});
