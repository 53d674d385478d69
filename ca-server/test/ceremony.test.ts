import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CA_PASSPHRASE, ROOT_PASSPHRASE, runCa } from './helpers/cli.js';
import { EC_P256, makeCsr, openssl } from './helpers/openssl.js';

let work: string;
let rootDir: string;
let data: string;

async function ceremony(dir: string, extra: { rootAlg?: string; caAlg?: string } = {}): Promise<{ root: string; data: string }> {
  const root = join(dir, 'root');
  const dataDir = join(dir, 'data');
  const steps = [
    ['root', 'init', '--dir', root, '--subject', 'CN=Test Hospital Root CA,O=Test Hospital', '--algorithm', extra.rootAlg ?? 'ecdsa-p384'],
    ['intermediate', 'request', '--data', dataDir, '--subject', 'CN=Test Hospital Device CA,O=Test Hospital', '--algorithm', extra.caAlg ?? 'ecdsa-p384'],
    ['root', 'sign', '--dir', root, '--csr', join(dataDir, 'ca/intermediate.csr.pem'), '--out', join(dir, 'intermediate.pem'),
      '--permit-dns', 'hospital.test', '--permit-ip', '10.20.0.0/16', '--exclude-dns', 'guest.hospital.test',
      '--crl-url', 'http://pki.hospital.test/root.crl', '--days', '730'],
    ['intermediate', 'install', '--data', dataDir, '--cert', join(dir, 'intermediate.pem'), '--root', join(root, 'root.crt.pem')],
  ];
  for (const args of steps) {
    const r = await runCa(args);
    expect(r.stderr, args.join(' ')).toBe('');
    expect(r.code, args.join(' ')).toBe(0);
  }
  return { root, data: dataDir };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'wardcert-ceremony-'));
  ({ root: rootDir, data } = await ceremony(work));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the key ceremony', () => {
  it('writes encrypted PKCS#8 keys with mode 0600 that openssl opens with the passphrase', async () => {
    for (const [file, pass] of [[join(rootDir, 'root.key.pem'), ROOT_PASSPHRASE], [join(data, 'ca/intermediate.key.pem'), CA_PASSPHRASE]] as const) {
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await readFile(file, 'utf8')).toContain('BEGIN ENCRYPTED PRIVATE KEY');
      const parsed = openssl(['asn1parse', '-in', file]);
      expect(parsed.output).toContain('PBES2');
      expect(parsed.output).toContain('aes-256-cbc');
      expect(openssl(['pkey', '-in', file, '-passin', `pass:${pass}`, '-noout']).ok).toBe(true);
      expect(openssl(['pkey', '-in', file, '-passin', 'pass:not the passphrase at all', '-noout']).ok).toBe(false);
    }
  });

  it('makes a self-signed P-384 root with critical CA constraints, CA key usage and an SKI', () => {
    const text = openssl(['x509', '-in', join(rootDir, 'root.crt.pem'), '-noout', '-text']).output;
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE\n/);
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text).toContain('Subject Key Identifier');
    expect(text).toContain('NIST CURVE: P-384');
    expect(text).toContain('ecdsa-with-SHA384');
  });

  it('signs the issuing CA with pathlen 0, AKI, a CRL distribution point and critical name constraints', () => {
    const text = openssl(['x509', '-in', join(data, 'ca/intermediate.crt.pem'), '-noout', '-text']).output;
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toContain('Authority Key Identifier');
    expect(text).toContain('URI:http://pki.hospital.test/root.crl');
    expect(text).toMatch(/Name Constraints: critical\s+Permitted:\s+DNS:hospital.test\s+IP:10.20.0.0\/255.255.0.0\s+Excluded:\s+DNS:guest.hospital.test/);
    expect(openssl(['verify', '-CAfile', join(data, 'ca/root.crt.pem'), join(data, 'ca/intermediate.crt.pem')]).ok).toBe(true);
  });

  it('uses positive serials of at least 64 random bits', () => {
    for (const file of [join(rootDir, 'root.crt.pem'), join(data, 'ca/intermediate.crt.pem')]) {
      const serial = openssl(['x509', '-in', file, '-noout', '-serial']).output.trim().replace('serial=', '');
      expect(serial.length).toBeGreaterThanOrEqual(16);
      expect(parseInt(serial.slice(0, 2), 16)).toBeLessThan(0x80);
    }
  });

  it('issues a dicom-node leaf whose chain openssl verify accepts, recorded in the store', async () => {
    const csr = makeCsr(work, 'gw1', { key: EC_P256, subject: '/CN=gw1.radiology.hospital.test', san: 'DNS:gw1.radiology.hospital.test,IP:10.20.1.5' });
    const out = join(work, 'gw1.pem');
    const r = await runCa(['issue', '--data', data, '--csr', csr, '--profile', 'dicom-node', '--out', out, '--http-base', 'http://ca.hospital.test:8080']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`wrote ${out}`);
    const verify = openssl(['verify', '-CAfile', join(data, 'ca/root.crt.pem'), '-untrusted', join(data, 'ca/intermediate.crt.pem'), '-purpose', 'sslserver', out]);
    expect(verify.output).toContain(': OK');
    const text = openssl(['x509', '-in', out, '-noout', '-text']).output;
    expect(text).toContain('TLS Web Server Authentication, TLS Web Client Authentication');
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/);
    expect(text).toContain('DNS:gw1.radiology.hospital.test, IP Address:10.20.1.5');
    expect(text).toContain('URI:http://ca.hospital.test:8080/crl/intermediate.crl');
    expect(text).toContain('OCSP - URI:http://ca.hospital.test:8080/ocsp');
    const lifetime = Date.parse(openssl(['x509', '-in', out, '-noout', '-enddate']).output.split('=')[1]!) - Date.now();
    expect(lifetime).toBeGreaterThan(71 * 3600_000);
    expect(lifetime).toBeLessThan(73 * 3600_000);
    const serial = /serial ([0-9a-f]+)/.exec(r.stdout)![1]!;
    const { openStore } = await import('../src/store/index.js');
    const store = await openStore({ dataDir: data });
    try {
      const record = await store.certificates.bySerial(serial);
      expect(record?.profile).toBe('dicom-node');
      expect(record?.identifiers).toEqual([{ type: 'dns', value: 'gw1.radiology.hospital.test' }, { type: 'ip', value: '10.20.1.5' }]);
    } finally {
      await store.close();
    }
  });

  it('adds keyEncipherment for RSA device keys', async () => {
    const csr = makeCsr(work, 'rsa3072', { key: ['-newkey', 'rsa:3072'], subject: '/CN=ris.hospital.test' });
    const out = join(work, 'rsa3072.pem');
    const r = await runCa(['issue', '--data', data, '--csr', csr, '--profile', 'hl7-endpoint', '--out', out]);
    expect(r.stderr).toContain('no --http-base');
    expect(r.code).toBe(0);
    expect(openssl(['x509', '-in', out, '-noout', '-text']).output).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
  });

  it('signs a root CRL that openssl verifies, keeping revocations across CRLs', async () => {
    const out = join(work, 'root.crl.pem');
    const first = await runCa(['root', 'crl', '--dir', rootDir, '--out', out, '--revoke', join(work, 'intermediate.pem'), '--reason', 'superseded']);
    expect(first.code).toBe(0);
    const second = await runCa(['root', 'crl', '--dir', rootDir, '--out', out, '--days', '30']);
    expect(second.code).toBe(0);
    const verified = openssl(['crl', '-in', out, '-CAfile', join(rootDir, 'root.crt.pem'), '-noout', '-text']);
    expect(verified.output).toContain('verify OK');
    expect(verified.output).toMatch(/CRL Number:\s+2/);
    expect(verified.output).toContain('Superseded');
    const der = join(work, 'root.crl');
    expect((await runCa(['root', 'crl', '--dir', rootDir, '--out', der])).code).toBe(0);
    expect(openssl(['crl', '-inform', 'DER', '-in', der, '-CAfile', join(rootDir, 'root.crt.pem'), '-noout']).output).toContain('verify OK');
  });
});

describe('refusals', () => {
  it('refuses a wrong root passphrase with a clear error and writes nothing', async () => {
    const out = join(work, 'never.pem');
    const r = await runCa(['root', 'sign', '--dir', rootDir, '--csr', join(data, 'ca/intermediate.csr.pem'), '--out', out],
      { WARDCERT_ROOT_PASSPHRASE: 'a wrong but long passphrase' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('wrong passphrase');
    await expect(stat(out)).rejects.toThrow();
  });

  it('refuses a wrong issuing CA passphrase on issue and writes nothing', async () => {
    const csr = makeCsr(work, 'wrongpass', { key: EC_P256, subject: '/CN=ct1.hospital.test' });
    const out = join(work, 'wrongpass.pem');
    const r = await runCa(['issue', '--data', data, '--csr', csr, '--profile', 'dicom-node', '--out', out], { WARDCERT_CA_PASSPHRASE: 'a wrong but long passphrase' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('wrong passphrase');
    await expect(stat(out)).rejects.toThrow();
  });

  it('refuses passphrases shorter than 16 characters', async () => {
    const dir = join(work, 'short');
    const r = await runCa(['root', 'init', '--dir', dir, '--subject', 'CN=Short'], { WARDCERT_ROOT_PASSPHRASE: 'tooshort' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('at least 16');
    await expect(stat(dir)).rejects.toThrow();
  });

  it('refuses to run without a passphrase source when not on a terminal', async () => {
    const r = await runCa(['root', 'init', '--dir', join(work, 'nopass'), '--subject', 'CN=X'], { WARDCERT_ROOT_PASSPHRASE: undefined });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('WARDCERT_ROOT_PASSPHRASE');
  });

  it('reads the passphrase from --passphrase-file', async () => {
    const file = join(work, 'root.pass');
    await writeFile(file, `${ROOT_PASSPHRASE}\n`, { mode: 0o600 });
    const out = join(work, 'fromfile.crl');
    const r = await runCa(['root', 'crl', '--dir', rootDir, '--out', out, '--passphrase-file', file], { WARDCERT_ROOT_PASSPHRASE: undefined });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('never overwrites a key or certificate without --force', async () => {
    const before = await readFile(join(rootDir, 'root.key.pem'), 'utf8');
    const again = await runCa(['root', 'init', '--dir', rootDir, '--subject', 'CN=Another Root']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('refusing to overwrite');
    expect(await readFile(join(rootDir, 'root.key.pem'), 'utf8')).toBe(before);
    const req = await runCa(['intermediate', 'request', '--data', data, '--subject', 'CN=Another CA']);
    expect(req.stderr).toContain('refusing to overwrite');
    const inst = await runCa(['intermediate', 'install', '--data', data, '--cert', join(work, 'intermediate.pem'), '--root', join(rootDir, 'root.crt.pem')]);
    expect(inst.stderr).toContain('refusing to overwrite');
  });

  it('replaces with --force', async () => {
    const dir = join(work, 'forced');
    expect((await runCa(['root', 'init', '--dir', dir, '--subject', 'CN=Forced Root'])).code).toBe(0);
    const before = await readFile(join(dir, 'root.crt.pem'), 'utf8');
    expect((await runCa(['root', 'init', '--dir', dir, '--subject', 'CN=Forced Root', '--force'])).code).toBe(0);
    expect(await readFile(join(dir, 'root.crt.pem'), 'utf8')).not.toBe(before);
  });

  it('refuses a CA algorithm outside BSI TR-02102-1 by naming the rule', async () => {
    const r = await runCa(['root', 'init', '--dir', join(work, 'weak'), '--subject', 'CN=Weak', '--algorithm', 'rsa-2048']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('BSI TR-02102-1');
  });

  it.each([
    ['a 1024-bit RSA key', ['-newkey', 'rsa:1024'], 'RSA key of 1024 bits is refused: BSI TR-02102-1'],
    ['a P-192 key', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime192v1'], 'P-192 (prime192v1) is refused: BSI TR-02102-1'],
  ])('refuses a CSR with %s by name', async (label, key, message) => {
    const csr = makeCsr(work, label.replace(/\W/g, ''), { key, subject: '/CN=old-modality.hospital.test' });
    const out = join(work, 'weak.pem');
    const r = await runCa(['issue', '--data', data, '--csr', csr, '--profile', 'dicom-node', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
    await expect(stat(out)).rejects.toThrow();
  });

  it('refuses a CSR whose signature is broken', async () => {
    const csr = makeCsr(work, 'broken', { key: EC_P256, subject: '/CN=broken.hospital.test' });
    const der = join(work, 'broken.der');
    openssl(['req', '-in', csr, '-outform', 'DER', '-out', der]);
    const bytes = await readFile(der);
    bytes[bytes.length - 5]! ^= 0x55; // inside the signature value
    await writeFile(join(work, 'broken.pem'), `-----BEGIN CERTIFICATE REQUEST-----\n${bytes.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`);
    const r = await runCa(['issue', '--data', data, '--csr', join(work, 'broken.pem'), '--profile', 'dicom-node', '--out', join(work, 'broken-out.pem')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('signature does not verify');
  });

  it.each([
    ['a DNS name outside the permitted subtree', '/CN=pacs.other-hospital.example', undefined],
    ['a DNS name in the excluded subtree', '/CN=kiosk.guest.hospital.test', undefined],
    ['an IP address outside the permitted range', '/CN=gw2.hospital.test', 'DNS:gw2.hospital.test,IP:192.0.2.7'],
  ])('refuses a CSR asking for %s', async (_label, subject, san) => {
    const csr = makeCsr(work, `outside${subject.length}`, { key: EC_P256, subject, ...(san ? { san } : {}) });
    const r = await runCa(['issue', '--data', data, '--csr', csr, '--profile', 'dicom-node', '--out', join(work, 'outside.pem')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("outside the issuing CA's name constraints");
  });

  it('refuses an unknown profile and a validity beyond the profile maximum', async () => {
    const csr = makeCsr(work, 'valid', { key: EC_P256, subject: '/CN=mr1.hospital.test' });
    const unknown = await runCa(['issue', '--data', data, '--csr', csr, '--profile', 'no-such', '--out', join(work, 'x.pem')]);
    expect(unknown.stderr).toContain('no profile "no-such"');
    const long = await runCa(['issue', '--data', data, '--csr', csr, '--profile', 'dicom-node', '--validity', '31d', '--out', join(work, 'x.pem')]);
    expect(long.stderr).toContain('exceeds the dicom-node maximum of 30d');
  });

  it('refuses to install a certificate that was not made from the pending request', async () => {
    const other = await mkdtemp(join(work, 'other-'));
    const { data: otherData } = await ceremony(other);
    const r = await runCa(['intermediate', 'install', '--data', otherData, '--cert', join(work, 'intermediate.pem'), '--root', join(rootDir, 'root.crt.pem'), '--force']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not signed by|public key differs/);
  });

  it('refuses a root file that carries a private key', async () => {
    const mixed = join(work, 'mixed.pem');
    await writeFile(mixed, (await readFile(join(rootDir, 'root.crt.pem'), 'utf8')) + (await readFile(join(rootDir, 'root.key.pem'), 'utf8')));
    const r = await runCa(['intermediate', 'install', '--data', data, '--cert', join(work, 'intermediate.pem'), '--root', mixed, '--force']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('contains a private key');
  });
});

describe('the offline root', () => {
  async function issueWith(dataDir: string) {
    const csr = makeCsr(work, 'guard', { key: EC_P256, subject: '/CN=guard.hospital.test' });
    return runCa(['issue', '--data', dataDir, '--csr', csr, '--profile', 'dicom-node', '--out', join(work, `guard-${Date.now()}.pem`)]);
  }

  it('refuses to load the issuing CA where the root key file is readable', async () => {
    const dir = await mkdtemp(join(work, 'guard-'));
    const c = await ceremony(dir);
    await copyFile(join(c.root, 'root.key.pem'), join(c.data, 'root.key.pem'));
    const r = await issueWith(c.data);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("offline root's private key is readable");
  });

  it('recognises the root key under another name, plain or encrypted with a reused passphrase', async () => {
    const dir = await mkdtemp(join(work, 'guard2-'));
    const c = await ceremony(dir);
    const plain = openssl(['pkey', '-in', join(c.root, 'root.key.pem'), '-passin', `pass:${ROOT_PASSPHRASE}`]).output;
    await writeFile(join(c.data, 'backup.key'), plain);
    const r1 = await issueWith(c.data);
    expect(r1.stderr).toContain(join(c.data, 'backup.key'));
    await rm(join(c.data, 'backup.key'));
    await copyFile(join(c.root, 'root.key.pem'), join(c.data, 'ca', 'old.pem'));
    // Renamed and encrypted, it is recognisable only through a passphrase the server holds: a reused one.
    const reused = await runCa(['issue', '--data', c.data, '--csr', makeCsr(work, 'g3', { key: EC_P256, subject: '/CN=g3.hospital.test' }),
      '--profile', 'dicom-node', '--out', join(work, 'g3.pem')], { WARDCERT_CA_PASSPHRASE: ROOT_PASSPHRASE });
    expect(reused.code).toBe(1);
    expect(reused.stderr).toContain(`readable at ${join(c.data, 'ca', 'old.pem')}`);
  });
});

describe('other BSI algorithms', () => {
  it('runs the ceremony with a brainpoolP256r1 root and an RSA-3072 issuing CA (RSA-PSS signatures)', async () => {
    const dir = await mkdtemp(join(work, 'algs-'));
    const c = await ceremony(dir, { rootAlg: 'ecdsa-brainpoolp256r1', caAlg: 'rsa-3072' });
    const csr = makeCsr(dir, 'bp', { key: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:brainpoolP384r1'], subject: '/CN=us1.hospital.test' });
    const out = join(dir, 'bp.pem');
    expect((await runCa(['issue', '--data', c.data, '--csr', csr, '--profile', 'dicom-node', '--out', out])).code).toBe(0);
    const verify = openssl(['verify', '-CAfile', join(c.data, 'ca/root.crt.pem'), '-untrusted', join(c.data, 'ca/intermediate.crt.pem'), out]);
    expect(verify.output).toContain(': OK');
    expect(openssl(['x509', '-in', out, '-noout', '-text']).output).toContain('rsassaPss');
  });
});

describe('the legacy RSA 2048 opt-in', () => {
  it('is refused by default and accepted, with a warning, only where a profile opts in', async () => {
    const csr = makeCsr(work, 'oldct', { key: ['-newkey', 'rsa:2048'], subject: '/CN=old-ct.hospital.test' });
    const refused = await runCa(['issue', '--data', data, '--csr', csr, '--profile', 'dicom-node', '--out', join(work, 'oldct.pem')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('RSA 2048 keys are refused by profile dicom-node');
    const dir = await mkdtemp(join(work, 'legacy-profiles-'));
    const { BUNDLED_PROFILES_DIR } = await import('../src/pki/profiles.js');
    const text = await readFile(join(BUNDLED_PROFILES_DIR, 'dicom-node.yaml'), 'utf8');
    await writeFile(join(dir, 'dicom-node.yaml'), text.replace('legacyRsa2048: false', 'legacyRsa2048: true'));
    const accepted = await runCa(['issue', '--data', data, '--csr', csr, '--profile', 'dicom-node', '--profiles', dir, '--out', join(work, 'oldct.pem')]);
    expect(accepted.code).toBe(0);
    expect(accepted.stderr).toContain('accepted a legacy RSA 2048 key (legacyRsa2048 opt-in)');
  });
});
