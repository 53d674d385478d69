import 'reflect-metadata';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { id_RSASSA_PSS } from '@peculiar/asn1-rsa';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCsr, CsrError, MAX_CSR_BYTES } from '../src/pki/csr.js';
import { loadIssuingCa } from '../src/pki/issuing-ca.js';
import { issueLeaf, LeafPolicyError } from '../src/pki/leaf.js';
import { loadProfiles } from '../src/pki/profiles.js';
import { FIXTURE_PASSPHRASE, makeCaDataDir } from './helpers/ca-dir.js';
import { EC_P256, makeCsr, openssl } from './helpers/openssl.js';

let work: string;
let rsaKey: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'wardcert-csr-'));
  rsaKey = join(work, 'rsa3072.key');
  openssl(['genrsa', '-out', rsaKey, '3072']);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** A request made by OpenSSL, as DER bytes (what finalize gets). */
async function request(name: string, opts: { key?: string[]; subject?: string; san?: string; digest?: string; sigopt?: string[] } = {}): Promise<Uint8Array<ArrayBuffer>> {
  const out = join(work, `${name}.csr`);
  const key = opts.key ?? ['-key', rsaKey];
  const args = ['req', '-new', ...key, ...(key[0] === '-key' ? [] : ['-nodes', '-keyout', join(work, `${name}.key`)]), '-subj', opts.subject ?? `/CN=${name}.hospital.test`, '-outform', 'DER', '-out', out];
  if (opts.san) args.push('-addext', `subjectAltName=${opts.san}`);
  if (opts.digest) args.push(`-${opts.digest}`);
  for (const o of opts.sigopt ?? []) args.push('-sigopt', o);
  const r = openssl(args);
  if (!r.ok) throw new Error(r.output);
  return new Uint8Array(await readFile(out));
}

async function refusal(input: string | Uint8Array): Promise<{ problem: string; message: string }> {
  const err = await checkCsr(input).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(CsrError);
  return { problem: (err as CsrError).problem, message: (err as CsrError).message };
}

const WEAK = 'BSI TR-02102-1 requires SHA-256 or stronger';

describe('checkCsr accepts', () => {
  it.each([
    ['ECDSA P-256 with SHA-256', { key: EC_P256, digest: 'sha256' }, 'ecdsa-p256'],
    ['ECDSA brainpoolP384r1 with SHA-384', { key: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:brainpoolP384r1'], digest: 'sha384' }, 'ecdsa-brainpoolp384r1'],
    ['RSA-3072 PKCS#1 v1.5 with SHA-512', { digest: 'sha512' }, 'rsa-3072'],
    ['RSA-3072 RSASSA-PSS with SHA-256', { digest: 'sha256', sigopt: ['rsa_padding_mode:pss', 'rsa_pss_saltlen:digest'] }, 'rsa-3072'],
    ['RSA-3072 RSASSA-PSS with SHA-384 and the longest salt', { digest: 'sha384', sigopt: ['rsa_padding_mode:pss', 'rsa_pss_saltlen:max'] }, 'rsa-3072'],
  ])('%s, and names its key, subject and identifiers', async (label, opts, spec) => {
    const der = await request(label.replace(/\W/g, ''), { ...opts, subject: '/CN=MR1.hospital.test/O=Hospital', san: 'DNS:mr1.hospital.test,DNS:127.0.0.3,IP:10.20.0.7' });
    const checked = await checkCsr(der);
    const csr = new x509.Pkcs10CertificateRequest(der);
    expect(checked.keySpec.name).toBe(spec);
    expect(Buffer.from(checked.spki)).toEqual(Buffer.from(csr.publicKey.rawData));
    expect(new x509.Name(checked.subject).toString()).toBe(csr.subject);
    expect(checked.identifiers).toEqual([
      { type: 'dns', value: 'mr1.hospital.test' },
      { type: 'ip', value: '127.0.0.3' },
      { type: 'ip', value: '10.20.0.7' },
    ]);
  });

  it('a PEM string as well as DER', async () => {
    const pem = await readFile(makeCsr(work, 'pem', { key: EC_P256, subject: '/CN=pem.hospital.test' }), 'utf8');
    expect((await checkCsr(pem)).identifiers).toEqual([{ type: 'dns', value: 'pem.hospital.test' }]);
  });
});

describe('checkCsr refuses', () => {
  it('a broken signature', async () => {
    const der = await request('broken', { key: EC_P256 });
    der[der.length - 5]! ^= 0x55; // inside the signature value
    expect(await refusal(der)).toEqual({ problem: 'badCSR', message: 'the CSR signature does not verify with its own public key' });
  });

  it('a signature made with another key', async () => {
    const der = await request('mismatch', { key: EC_P256 });
    const other = AsnConvert.parse(await request('other', { key: EC_P256 }), CertificationRequest);
    const csr = AsnConvert.parse(der, CertificationRequest);
    csr.signature = other.signature;
    expect((await refusal(new Uint8Array(AsnConvert.serialize(csr)))).message).toBe('the CSR signature does not verify with its own public key');
  });

  it.each([
    ['RSA with SHA-1', { digest: 'sha1' }, 'RSASSA-PKCS1-v1_5/SHA-1'],
    ['ECDSA with SHA-1', { key: EC_P256, digest: 'sha1' }, 'ECDSA/SHA-1'],
    ['RSASSA-PSS with SHA-1', { digest: 'sha1', sigopt: ['rsa_padding_mode:pss', 'rsa_pss_saltlen:20'] }, 'RSA-PSS/SHA-1'],
    ['RSA with MD5', { digest: 'md5' }, '1.2.840.113549.1.1.4'],
    ['ECDSA with SHA-224', { key: EC_P256, digest: 'sha224' }, '1.2.840.10045.4.3.1'],
  ])('a weak hash: %s', async (label, opts, named) => {
    const der = await request(label.replace(/\W/g, ''), opts);
    expect(await refusal(der)).toEqual({ problem: 'badSignatureAlgorithm', message: `the CSR is signed with ${named}; ${WEAK}` });
  });

  it('RSASSA-PSS without parameters or with unreadable ones, without crashing', async () => {
    const csr = AsnConvert.parse(await request('pss', { digest: 'sha256', sigopt: ['rsa_padding_mode:pss'] }), CertificationRequest);
    for (const parameters of [undefined, new Uint8Array([4, 1, 0]).buffer]) {
      csr.signatureAlgorithm = new AlgorithmIdentifier({ algorithm: id_RSASSA_PSS, ...(parameters ? { parameters } : {}) });
      expect(await refusal(new Uint8Array(AsnConvert.serialize(csr)))).toEqual({ problem: 'badSignatureAlgorithm', message: `the CSR is signed with RSA-PSS; ${WEAK}` });
    }
  });

  it('garbage, and anything larger than the limit', async () => {
    expect(await refusal(new Uint8Array(Buffer.from('not a request')))).toEqual({ problem: 'badCSR', message: 'the CSR is not a PKCS#10 certification request' });
    expect(await refusal(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))).toEqual({ problem: 'badCSR', message: 'the CSR is not a PKCS#10 certification request' });
    expect(await refusal(new Uint8Array(MAX_CSR_BYTES + 1))).toEqual({ problem: 'badCSR', message: `the CSR is larger than ${MAX_CSR_BYTES} bytes` });
  });

  it('a weak key, by the rule it breaks', async () => {
    expect(await refusal(await request('rsa1024', { key: ['-newkey', 'rsa:1024'] }))).toMatchObject({ problem: 'badPublicKey', message: expect.stringContaining('RSA key of 1024 bits is refused: BSI TR-02102-1') });
  });

  it.each([
    ['an e-mail address', 'DNS:a.hospital.test,email:pacs@hospital.test', 'email'],
    ['a URI', 'URI:https://pacs.hospital.test/', 'url'],
    ['a registered ID', 'RID:1.2.3.4', 'id'],
    ['a UPN', 'otherName:1.3.6.1.4.1.311.20.2.3;UTF8:pacs@hospital.test', 'upn'],
  ])('a SAN with %s', async (label, san, type) => {
    const der = await request(label.replace(/\W/g, ''), { key: EC_P256, san });
    expect(await refusal(der)).toEqual({ problem: 'badCSR', message: `the CSR asks for a ${type} name; only DNS names and IP addresses are issued` });
  });
});

describe('an RSA-2048 request', () => {
  it('passes the CSR check and is refused by a profile without the legacy opt-in', async () => {
    const dir = await mkdtemp(join(work, 'ca-'));
    await makeCaDataDir(dir);
    const ca = await loadIssuingCa({ dataDir: dir, passphrase: FIXTURE_PASSPHRASE });
    const checked = await checkCsr(await request('rsa2048', { key: ['-newkey', 'rsa:2048'] }));
    expect(checked.keySpec.name).toBe('rsa-2048');
    const err = await issueLeaf({ ca, profile: (await loadProfiles()).get('dicom-node')!, request: checked }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(LeafPolicyError);
    expect(err).toMatchObject({
      problem: 'badPublicKey',
      message: 'RSA 2048 keys are refused by profile dicom-node: BSI TR-02102-1 requires RSA of at least 3000 bits',
    });
  });
});
