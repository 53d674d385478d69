import 'reflect-metadata';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorityKeyId } from '../src/pki/ca-certificates.js';
import { cryptoFor } from '../src/pki/crypto.js';
import { checkCsr, type CheckedCsr } from '../src/pki/csr.js';
import { loadIssuingCa, type IssuingCa } from '../src/pki/issuing-ca.js';
import { caLayout } from '../src/pki/layout.js';
import { issueLeaf, type LeafRequest } from '../src/pki/leaf.js';
import { loadProfiles, type Profile } from '../src/pki/profiles.js';
import { FIXTURE_PASSPHRASE, makeCaDataDir } from './helpers/ca-dir.js';
import { EC_P256, makeCsr, openssl } from './helpers/openssl.js';

const HTTP_BASE = 'http://ca.hospital.test:8080';
const BRAINPOOL_P384 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:brainpoolP384r1'];

let work: string;
let profiles: Map<string, Profile>;
/** Device requests made by OpenSSL, one per key kind. */
const requests: Record<'ec' | 'rsa' | 'brainpool', { pem: string; checked: CheckedCsr }> = {} as never;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'wardcert-leaf-'));
  profiles = await loadProfiles();
  const keys = { ec: EC_P256, rsa: ['-newkey', 'rsa:3072'], brainpool: BRAINPOOL_P384 };
  for (const [kind, key] of Object.entries(keys) as [keyof typeof keys, string[]][]) {
    const pem = await readFile(makeCsr(work, kind, { key, subject: `/CN=${kind}.hospital.test`, san: `DNS:${kind}.hospital.test,IP:127.0.0.9` }), 'utf8');
    requests[kind] = { pem, checked: await checkCsr(pem) };
  }
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** The leaf as @peculiar/x509's generator built it before: the encoding issueLeaf must keep. */
async function referenceLeaf(req: LeafRequest, pem: string, like: x509.X509Certificate): Promise<x509.X509Certificate> {
  const { ca, profile } = req;
  const csr = new x509.Pkcs10CertificateRequest(pem);
  const rsa = req.request.keySpec.kind === 'rsa';
  const usages = [...profile.keyUsage, ...(rsa ? profile.rsaKeyUsage : [])].reduce((acc, u) => acc | x509.KeyUsageFlags[u], 0);
  const url = (path: string) => `${HTTP_BASE}${path}`;
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: like.serialNumber,
      subject: like.subjectName,
      issuer: ca.cert.subjectName,
      notBefore: like.notBefore,
      notAfter: like.notAfter,
      publicKey: csr.publicKey,
      signingKey: ca.key.privateKey,
      signingAlgorithm: ca.key.signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(usages, true),
        new x509.ExtendedKeyUsageExtension(profile.extendedKeyUsage.map((e) => x509.ExtendedKeyUsage[e])),
        new x509.SubjectAlternativeNameExtension(req.request.identifiers.map((id) => ({ type: id.type, value: id.value })), false),
        authorityKeyId(ca.cert),
        await x509.SubjectKeyIdentifierExtension.create(csr.publicKey, false, cryptoFor(req.request.keySpec)),
        new x509.CRLDistributionPointsExtension([url('/crl/intermediate.crl')]),
        new x509.AuthorityInfoAccessExtension({ ocsp: [url('/ocsp')], caIssuers: [url('/ca/intermediate.crt')] }),
      ],
    },
    ca.key.crypto,
  );
}

describe.each([
  ['ecdsa-p384', 'Signature Algorithm: ecdsa-with-SHA384'],
  ['ecdsa-brainpoolp384r1', 'Signature Algorithm: ecdsa-with-SHA384'],
  ['rsa-3072', 'Salt Length: 0x20'],
])('a leaf from a %s issuing CA', (algorithm, signatureLine) => {
  let dir: string;
  let ca: IssuingCa;
  beforeAll(async () => {
    dir = await mkdtemp(join(work, `${algorithm}-`));
    await makeCaDataDir(dir, `CN=Leaf Test ${algorithm} CA`, algorithm);
    ca = await loadIssuingCa({ dataDir: dir, passphrase: FIXTURE_PASSPHRASE });
  });

  it.each(['ec', 'rsa', 'brainpool'] as const)('for a %s device key: openssl verifies it and reads every extension', async (kind) => {
    const leaf = await issueLeaf({ ca, profile: profiles.get('dicom-node')!, request: requests[kind].checked, httpBase: HTTP_BASE });
    const file = join(dir, `${kind}.pem`);
    await writeFile(file, x509.PemConverter.encode(leaf.der, 'CERTIFICATE'));
    const verify = openssl(['verify', '-CAfile', caLayout(dir).root, '-untrusted', caLayout(dir).cert, file]);
    expect(verify.output).toContain(': OK');
    const text = openssl(['x509', '-in', file, '-noout', '-text']).output;
    expect(text).toContain(signatureLine);
    if (algorithm.startsWith('rsa')) expect(text).toMatch(/rsassaPss[\s\S]*Hash Algorithm: sha256[\s\S]*Mask Algorithm: mgf1 with sha256/);
    expect(text).toContain(`Subject: CN = ${kind}.hospital.test`);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(new RegExp(`X509v3 Key Usage: critical\\s+Digital Signature${kind === 'rsa' ? ', Key Encipherment' : ''}\\n`));
    expect(text).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(text).toMatch(new RegExp(`X509v3 Subject Alternative Name:\\s+DNS:${kind}.hospital.test, IP Address:127.0.0.9`));
    expect(text).toContain(`URI:${HTTP_BASE}/crl/intermediate.crl`);
    expect(text).toContain(`OCSP - URI:${HTTP_BASE}/ocsp`);
    expect(text).toContain(`CA Issuers - URI:${HTTP_BASE}/ca/intermediate.crt`);
  });

  it('carries what the certificate says, without reading it back', async () => {
    const leaf = await issueLeaf({ ca, profile: profiles.get('dicom-node')!, request: requests.ec.checked, httpBase: HTTP_BASE });
    const cert = new x509.X509Certificate(leaf.der);
    expect(leaf.serial).toBe(cert.serialNumber);
    expect(leaf.subject).toBe(cert.subject);
    expect(leaf.notBefore.getTime()).toBe(cert.notBefore.getTime());
    expect(leaf.notAfter.getTime()).toBe(cert.notAfter.getTime());
    expect(leaf.chainPem).toBe(`${cert.toString('pem')}\n${ca.cert.toString('pem')}\n`);
    expect(leaf.spkiSha256).toBe(createHash('sha256').update(Buffer.from(cert.publicKey.rawData)).digest('hex'));
  });

  it.each(['ec', 'rsa', 'brainpool'] as const)('for a %s device key: encodes the TBS exactly as @peculiar/x509 did', async (kind) => {
    const req = { ca, profile: profiles.get('dicom-node')!, request: requests[kind].checked, httpBase: HTTP_BASE };
    const leaf = await issueLeaf(req);
    const reference = await referenceLeaf(req, requests[kind].pem, new x509.X509Certificate(leaf.der));
    const ours = AsnConvert.parse(leaf.der, Certificate);
    const theirs = AsnConvert.parse(reference.rawData, Certificate);
    expect(Buffer.from(ours.tbsCertificateRaw!).toString('hex')).toBe(Buffer.from(theirs.tbsCertificateRaw!).toString('hex'));
    expect(Buffer.from(AsnConvert.serialize(ours.signatureAlgorithm))).toEqual(Buffer.from(AsnConvert.serialize(theirs.signatureAlgorithm)));
  });
});

describe('leaf extensions', () => {
  let ca: IssuingCa;
  beforeAll(async () => {
    const dir = await mkdtemp(join(work, 'ext-'));
    await makeCaDataDir(dir);
    ca = await loadIssuingCa({ dataDir: dir, passphrase: FIXTURE_PASSPHRASE });
  });

  it.each(['ec', 'rsa', 'brainpool'] as const)('the SKI of a %s key is the one SubjectKeyIdentifierExtension.create computes', async (kind) => {
    const { pem, checked } = requests[kind];
    const leaf = new x509.X509Certificate((await issueLeaf({ ca, profile: profiles.get('dicom-node')!, request: checked })).der);
    const expected = await x509.SubjectKeyIdentifierExtension.create(new x509.Pkcs10CertificateRequest(pem).publicKey, false, cryptoFor(checked.keySpec));
    expect(leaf.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId).toBe(expected.keyId);
  });

  it('keeps what it reuses apart by profile, HTTP base and key kind', async () => {
    const issue = async (profile: string, kind: 'ec' | 'rsa', httpBase?: string) =>
      new x509.X509Certificate((await issueLeaf({ ca, profile: profiles.get(profile)!, request: requests[kind].checked, httpBase })).der);
    const usages = (c: x509.X509Certificate) => c.getExtension(x509.KeyUsagesExtension)!.usages;
    const crl = (c: x509.X509Certificate) => c.getExtension(x509.CRLDistributionPointsExtension)?.distributionPoints[0]?.distributionPoint?.fullName?.[0]?.uniformResourceIdentifier;
    expect(usages(await issue('dicom-node', 'ec'))).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(usages(await issue('dicom-node', 'rsa'))).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    expect(crl(await issue('dicom-node', 'ec'))).toBeUndefined();
    expect(crl(await issue('dicom-node', 'ec', 'http://a.hospital.test'))).toBe('http://a.hospital.test/crl/intermediate.crl');
    expect(crl(await issue('dicom-node', 'ec', 'http://b.hospital.test'))).toBe('http://b.hospital.test/crl/intermediate.crl');
    expect((await issue('ca-tls', 'ec')).getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([x509.ExtendedKeyUsage.serverAuth]);
  });

  it('an address-only leaf has an empty subject and a critical SAN (RFC 5280 s4.2.1.6)', async () => {
    const pem = await readFile(makeCsr(work, 'iponly', { key: EC_P256, subject: '/CN=127.0.0.12' }), 'utf8');
    const leaf = await issueLeaf({ ca, profile: profiles.get('dicom-node')!, request: await checkCsr(pem) });
    const cert = new x509.X509Certificate(leaf.der);
    expect(leaf.subject).toBe('');
    expect(cert.subject).toBe('');
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)!.critical).toBe(true);
  });
});
