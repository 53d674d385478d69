import 'reflect-metadata';
import { Crypto as PeculiarCrypto } from '@peculiar/webcrypto';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerOcsp, decodeOcspGetPath, type CertStatus, type OcspSigner, type StatusLookup } from '../src/pki/ocsp.js';

// @peculiar/x509 writes ECDSA signatures by curve size and knows only the NIST curves by itself.
x509.AsnEcSignatureFormatter.namedCurveSize.set('brainpoolP256r1', 32);

const MALFORMED = '30030a0101';
const UNAUTHORIZED = '30030a0106';
const NONCE_OID = '1.3.6.1.5.5.7.48.1.2';

interface Pki {
  name: string;
  dir: string;
  signer: OcspSigner;
  /** The leaf's serial as StatusLookup should receive it. */
  serial: string;
}

let root: string;
const pkis: Pki[] = [];
const pki = (name: string) => pkis.find((p) => p.name === name)!;

/** Resolves with everything openssl printed: a failed verification is an assertion, not a crash. */
function openssl(args: string[]): Promise<string> {
  return new Promise((resolve) => execFile('/usr/bin/openssl', args, { timeout: 30_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`)));
}

async function buildPki(name: string, crypto: Crypto, keyAlgorithm: EcKeyGenParams | RsaHashedKeyGenParams, signingAlgorithm: OcspSigner['signingAlgorithm'], serial: string): Promise<Pki> {
  const dir = join(root, name);
  await mkdir(dir);
  const caKeys = (await crypto.subtle.generateKey(keyAlgorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 3_600_000);
  const notAfter = new Date(Date.now() + 86_400_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: `CN=Wardcert Test ${name} CA, O=Hospital`,
      notBefore,
      notAfter,
      keys: caKeys,
      signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      ],
    },
    crypto,
  );
  // The leaf key comes from the same provider: @peculiar/x509 exports it with the crypto it is given.
  const leafKeys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const leaf = await x509.X509CertificateGenerator.create(
    { serialNumber: serial, subject: `CN=${name}.hospital.test`, issuer: ca.subject, notBefore, notAfter, publicKey: leafKeys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm },
    crypto,
  );
  await writeFile(join(dir, 'ca.pem'), ca.toString('pem'));
  await writeFile(join(dir, 'leaf.pem'), leaf.toString('pem'));
  return { name, dir, signer: { certificate: ca, privateKey: caKeys.privateKey, crypto, signingAlgorithm }, serial };
}

/** openssl's way of naming p's leaf; a CertID digest option has to come before -cert. */
const certArgs = (p: Pki, ...digest: string[]) => ['-issuer', join(p.dir, 'ca.pem'), ...digest, '-cert', join(p.dir, 'leaf.pem')];

/** A real client's request: `openssl ocsp -reqout`. */
async function request(p: Pki, args = [...certArgs(p), '-no_nonce']): Promise<Uint8Array<ArrayBuffer>> {
  const file = join(p.dir, 'req.der');
  await openssl(['ocsp', ...args, '-reqout', file]);
  return new Uint8Array(await readFile(file));
}

/**
 * What openssl makes of a response, trusting p's CA. It prints a status for each -cert; -issuer also names the
 * signer (the CA signs directly). -cert builds a fresh request with a random nonce, so a nonce check needs
 * -reqin without -cert.
 */
async function opensslReads(p: Pki, response: Uint8Array, args = certArgs(p)): Promise<string> {
  await writeFile(join(p.dir, 'resp.der'), response);
  return openssl(['ocsp', '-respin', join(p.dir, 'resp.der'), '-CAfile', join(p.dir, 'ca.pem'), '-resp_text', ...args]);
}

/** A lookup that answers `status` and records the serials it was asked about. */
function lookupOf(status: CertStatus): StatusLookup & { asked: string[] } {
  const asked: string[] = [];
  return Object.assign(async (serial: string) => (asked.push(serial), status), { asked });
}

const hex = (der: Uint8Array) => Buffer.from(der).toString('hex');

function basicOf(der: Uint8Array<ArrayBuffer>): pkijs.BasicOCSPResponse {
  const response = pkijs.OCSPResponse.fromBER(der);
  expect(response.responseStatus.valueBlock.valueDec).toBe(0);
  return pkijs.BasicOCSPResponse.fromBER(new Uint8Array(response.responseBytes!.response.valueBlock.valueHexView));
}

/** Re-encodes a request after changing its parts; toSchema(true) so the stored TBS bytes are not reused. */
function rewrite(der: Uint8Array<ArrayBuffer>, change: (tbs: pkijs.TBSRequest) => void): Uint8Array {
  const req = pkijs.OCSPRequest.fromBER(der);
  change(req.tbsRequest);
  return new Uint8Array(req.toSchema(true).toBER(false));
}

const nonceExtension = (value: asn1js.BaseBlock) => new pkijs.Extension({ extnID: NONCE_OID, extnValue: value.toBER(false) });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wardcert-ocsp-'));
  const peculiar = new PeculiarCrypto() as unknown as Crypto;
  pkis.push(
    await buildPki('p384', globalThis.crypto, { name: 'ECDSA', namedCurve: 'P-384' }, { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams, '4a1b2c3d4e5f60718293a4b5c6d7e8f9'),
    await buildPki(
      'rsa3072-pss',
      globalThis.crypto,
      { name: 'RSA-PSS', modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      { name: 'RSA-PSS', saltLength: 32, hash: 'SHA-256' } as RsaPssParams,
      '5b2c3d4e5f60718293a4b5c6d7e8f901',
    ),
    // A serial with its top bit set: DER gives it a 00 sign byte, which the lookup must not see.
    await buildPki('brainpoolP256r1', peculiar, { name: 'ECDSA', namedCurve: 'brainpoolP256r1' }, { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams, '8f0102030405060708090a0b0c0d0e0f'),
  );
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe.each(['p384', 'rsa3072-pss', 'brainpoolP256r1'])('a response signed by the %s CA', (name) => {
  it('says good, verifies, and looks up the serial without a sign byte', async () => {
    const p = pki(name);
    const lookup = lookupOf({ status: 'good' });
    const text = await opensslReads(p, await answerOcsp(await request(p), p.signer, lookup));
    expect(text).toContain('Response verify OK');
    expect(text).toContain(`${join(p.dir, 'leaf.pem')}: good`);
    expect(lookup.asked).toEqual([p.serial]);
  });

  it('says revoked, with time and reason', async () => {
    const p = pki(name);
    const revokedAt = new Date('2025-03-04T05:06:07.890Z');
    const text = await opensslReads(p, await answerOcsp(await request(p), p.signer, lookupOf({ status: 'revoked', revokedAt, reason: 1 })));
    expect(text).toContain('Response verify OK');
    expect(text).toContain(`${join(p.dir, 'leaf.pem')}: revoked`);
    expect(text).toContain('Reason: keyCompromise');
    expect(text).toContain('Revocation Time: Mar  4 05:06:07 2025 GMT');
  });

  it('says unknown when the lookup does not know the serial', async () => {
    const p = pki(name);
    const text = await opensslReads(p, await answerOcsp(await request(p), p.signer, lookupOf({ status: 'unknown' })));
    expect(text).toContain('Response verify OK');
    expect(text).toContain(`${join(p.dir, 'leaf.pem')}: unknown`);
  });
});

describe('a successful response', () => {
  it('has byKey responder, producedAt = thisUpdate = now, nextUpdate = now + validity, and no certificates', async () => {
    const p = pki('p384');
    const now = new Date(Date.now() - 1_500); // fractions of a second are cut off
    const basic = basicOf(await answerOcsp(await request(p), p.signer, lookupOf({ status: 'good' }), { now, validitySeconds: 3_600 }));
    const seconds = Math.floor(now.getTime() / 1000) * 1000;
    const data = basic.tbsResponseData;
    expect(data.responderID).toBeInstanceOf(asn1js.OctetString);
    expect(data.producedAt.getTime()).toBe(seconds);
    expect(data.responses).toHaveLength(1);
    expect(data.responses[0]!.thisUpdate.getTime()).toBe(seconds);
    expect(data.responses[0]!.nextUpdate!.getTime()).toBe(seconds + 3_600_000);
    expect(basic.certs).toBeUndefined();
    expect(data.responseExtensions).toBeUndefined();
  });

  it('defaults nextUpdate to four days after thisUpdate', async () => {
    const p = pki('p384');
    const basic = basicOf(await answerOcsp(await request(p), p.signer, lookupOf({ status: 'good' })));
    const single = basic.tbsResponseData.responses[0]!;
    expect(single.nextUpdate!.getTime() - single.thisUpdate.getTime()).toBe(4 * 86_400_000);
  });

  it('echoes the nonce, and openssl checks it against the request', async () => {
    const p = pki('p384');
    const der = await request(p, [...certArgs(p), '-nonce']);
    const response = await answerOcsp(der, p.signer, lookupOf({ status: 'good' }));
    const asked = pkijs.OCSPRequest.fromBER(der).tbsRequest.requestExtensions!.find((e) => e.extnID === NONCE_OID)!;
    const echoed = basicOf(response).tbsResponseData.responseExtensions!.find((e) => e.extnID === NONCE_OID)!;
    expect(hex(echoed.extnValue.valueBlock.valueHexView)).toBe(hex(asked.extnValue.valueBlock.valueHexView));
    const nonceFile = join(p.dir, 'nonce-req.der');
    await writeFile(nonceFile, der);
    const reqin = ['-issuer', join(p.dir, 'ca.pem'), '-reqin', nonceFile];
    const text = await opensslReads(p, response, reqin);
    expect(text).toContain('Response verify OK');
    expect(text).not.toMatch(/no nonce in response|nonce verify error/i);
    // The check bites: a response without the nonce draws openssl's warning.
    const without = await answerOcsp(await request(p), p.signer, lookupOf({ status: 'good' }));
    expect(await opensslReads(p, without, reqin)).toMatch(/no nonce in response/i);
  });

  it('leaves the reason out of a revocation that has none', async () => {
    const p = pki('p384');
    const text = await opensslReads(p, await answerOcsp(await request(p), p.signer, lookupOf({ status: 'revoked', revokedAt: new Date() })));
    expect(text).toContain(`${join(p.dir, 'leaf.pem')}: revoked`);
    expect(text).not.toContain('Reason:');
  });

  it('answers a CertID hashed with SHA-256', async () => {
    const p = pki('rsa3072-pss');
    const der = await request(p, [...certArgs(p, '-sha256'), '-no_nonce']);
    expect(pkijs.OCSPRequest.fromBER(der).tbsRequest.requestList[0]!.reqCert.hashAlgorithm.algorithmId).toBe('2.16.840.1.101.3.4.2.1');
    const text = await opensslReads(p, await answerOcsp(der, p.signer, lookupOf({ status: 'good' })), certArgs(p, '-sha256'));
    expect(text).toContain('Response verify OK');
    expect(text).toContain(`${join(p.dir, 'leaf.pem')}: good`);
  });

  it("answers a request that also asks about another CA's certificate, that one as unknown", async () => {
    const [ours, other] = [pki('p384'), pki('brainpoolP256r1')];
    const both = [...certArgs(ours), ...certArgs(other)];
    const lookup = lookupOf({ status: 'good' });
    const response = await answerOcsp(await request(ours, [...both, '-no_nonce']), ours.signer, lookup);
    // openssl accepts CertIDs of several issuers only from a responder it trusts directly (-VAfile).
    const text = await opensslReads(ours, response, [...both, '-VAfile', join(ours.dir, 'ca.pem')]);
    expect(text).toContain('Response verify OK');
    expect(text).toContain(`${join(ours.dir, 'leaf.pem')}: good`);
    expect(text).toContain(`${join(other.dir, 'leaf.pem')}: unknown`);
    expect(lookup.asked).toEqual([ours.serial]);
  });

  it('signs RSA-PSS with the salt length the signer asks for', async () => {
    const p = pki('rsa3072-pss');
    const signer = { ...p.signer, signingAlgorithm: { name: 'RSA-PSS', saltLength: 64 } as RsaPssParams };
    const response = await answerOcsp(await request(p), signer, lookupOf({ status: 'good' }));
    const params = pkijs.RSASSAPSSParams.fromBER(basicOf(response).signatureAlgorithm.algorithmParams.toBER(false));
    expect(params.saltLength).toBe(64);
    expect(params.hashAlgorithm.algorithmId).toBe('2.16.840.1.101.3.4.2.1');
    expect(await opensslReads(p, response)).toContain('Response verify OK');
  });
});

describe('a bad request', () => {
  const never: StatusLookup = () => Promise.reject(new Error('a bad request must not reach the lookup'));
  const answer = (der: Uint8Array, p = pki('p384')) => answerOcsp(der, p.signer, never).then(hex);

  it('gets malformedRequest for garbage, nothing, truncated DER, trailing bytes and oversize input', async () => {
    const good = await request(pki('p384'));
    expect(await answer(new Uint8Array(Buffer.from('not der at all')))).toBe(MALFORMED);
    expect(await answer(new Uint8Array())).toBe(MALFORMED);
    expect(await answer(good.subarray(0, good.length - 5))).toBe(MALFORMED);
    expect(await answer(new Uint8Array([...good, 0]))).toBe(MALFORMED);
    expect(await answer(new Uint8Array(16 * 1024 + 1).fill(0x30))).toBe(MALFORMED);
    // A DER SEQUENCE that is not an OCSPRequest.
    expect(await answer(new Uint8Array(new asn1js.Sequence({ value: [new asn1js.Integer({ value: 1 })] }).toBER(false)))).toBe(MALFORMED);
  });

  it('gets malformedRequest for an empty request list and for more than 20 certificates', async () => {
    const good = await request(pki('p384'));
    expect(await answer(rewrite(good, (tbs) => (tbs.requestList = [])))).toBe(MALFORMED);
    const times = (n: number) => rewrite(good, (tbs) => (tbs.requestList = Array.from({ length: n }, () => tbs.requestList[0]!)));
    expect(await answer(times(21))).toBe(MALFORMED);
    const twenty = await answerOcsp(times(20), pki('p384').signer, lookupOf({ status: 'good' }));
    expect(basicOf(twenty).tbsResponseData.responses).toHaveLength(20);
  });

  it('gets malformedRequest for a nonce of 0 or more than 128 octets, or one not in an OCTET STRING (RFC 9654)', async () => {
    const good = await request(pki('p384'));
    const withNonce = (value: asn1js.BaseBlock) => rewrite(good, (tbs) => (tbs.requestExtensions = [nonceExtension(value)]));
    expect(await answer(withNonce(new asn1js.OctetString({ valueHex: new Uint8Array(0) })))).toBe(MALFORMED);
    expect(await answer(withNonce(new asn1js.OctetString({ valueHex: new Uint8Array(129) })))).toBe(MALFORMED);
    expect(await answer(withNonce(new asn1js.Integer({ value: 42 })))).toBe(MALFORMED);
    const longest = await answerOcsp(withNonce(new asn1js.OctetString({ valueHex: new Uint8Array(128).fill(7) })), pki('p384').signer, lookupOf({ status: 'good' }));
    expect(basicOf(longest).tbsResponseData.responseExtensions).toHaveLength(1);
  });

  it('gets unauthorized when it asks only about certificates of another CA', async () => {
    expect(await answer(await request(pki('rsa3072-pss')), pki('p384'))).toBe(UNAUTHORIZED);
    expect(await answer(await request(pki('p384')), pki('brainpoolP256r1'))).toBe(UNAUTHORIZED);
  });

  it('gets unauthorized when its CertID uses a hash this responder does not take', async () => {
    const good = await request(pki('p384'));
    const md5 = rewrite(good, (tbs) => (tbs.requestList[0]!.reqCert.hashAlgorithm = new pkijs.AlgorithmIdentifier({ algorithmId: '1.2.840.113549.2.5', algorithmParams: new asn1js.Null() })));
    expect(await answer(md5)).toBe(UNAUTHORIZED);
  });
});

describe('decodeOcspGetPath (RFC 6960 Appendix A.1)', () => {
  it('decodes the url-encoded base64 of a real request, encoded or raw', async () => {
    const p = pki('p384');
    const der = await request(p, [...certArgs(p), '-nonce']);
    const b64 = Buffer.from(der).toString('base64');
    expect(hex(decodeOcspGetPath(encodeURIComponent(b64))!)).toBe(hex(der));
    expect(hex(decodeOcspGetPath(b64)!)).toBe(hex(der));
  });

  it("takes '/', '+' and '=' raw or percent-encoded, and a raw '+' is not a space", () => {
    expect(hex(decodeOcspGetPath('%2B%2F8%3D')!)).toBe('fbff');
    expect(hex(decodeOcspGetPath('+/8=')!)).toBe('fbff');
    expect(hex(decodeOcspGetPath('%2b/8%3d')!)).toBe('fbff');
    expect(decodeOcspGetPath(' /8=')).toBeUndefined();
  });

  it('refuses garbage', () => {
    for (const bad of ['', '%%%', '%E0%A4%A', '!!!!', 'abc', 'ab=c', 'abcd=', 'YWJj\n', 'YW Jj', '-_8=', 'A'.repeat(30_000)]) {
      expect(decodeOcspGetPath(bad), bad.slice(0, 20)).toBeUndefined();
    }
  });
});
