import 'reflect-metadata';
import * as asn1js from 'asn1js';
import type * as x509 from '@peculiar/x509';
import { createHash } from 'node:crypto';
import * as pkijs from 'pkijs';
import type { SigningKey } from './keys.js';

/** RFC 6960 OCSP answers, built with pkijs, signed directly by the issuing CA (s4.2.2.2, case 1). */

export type CertStatus = { status: 'good' } | { status: 'revoked'; revokedAt: Date; reason?: number } | { status: 'unknown' };
export type StatusLookup = (serialHex: string) => Promise<CertStatus>;

export interface OcspSigner {
  certificate: x509.X509Certificate;
  key: SigningKey;
}

export interface OcspOptions {
  now?: Date;
  /** nextUpdate = thisUpdate + this; default four days, a little more than a certificate's default life. */
  validitySeconds?: number;
}

export const MAX_OCSP_REQUEST_BYTES = 16 * 1024;
const MAX_SINGLE_REQUESTS = 20;
const ID_PKIX_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const ID_PKIX_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';
const HASH_BY_OID: Record<string, string> = { '1.3.14.3.2.26': 'sha1', '2.16.840.1.101.3.4.2.1': 'sha256' };

/** OCSPResponseStatus values (RFC 6960 s4.2.1). */
const MALFORMED_REQUEST = 1;
const UNAUTHORIZED = 6;

/** Answers a DER OCSPRequest with a DER OCSPResponse; bad input gets an error status, never an exception. */
export async function answerOcsp(requestDer: Uint8Array, signer: OcspSigner, lookup: StatusLookup, opts: OcspOptions = {}): Promise<Uint8Array> {
  const request = parseRequest(requestDer);
  if (!request) return statusOnly(MALFORMED_REQUEST);
  const issuer = issuerHashes(signer.certificate);
  const now = opts.now ?? new Date();
  const nextUpdate = new Date(now.getTime() + (opts.validitySeconds ?? 4 * 86_400) * 1000);
  const responses: pkijs.SingleResponse[] = [];
  for (const single of request.tbsRequest.requestList) {
    const certId = single.reqCert;
    const hash = HASH_BY_OID[certId.hashAlgorithm.algorithmId];
    const ours = hash !== undefined && equal(certId.issuerNameHash, issuer.name(hash)) && equal(certId.issuerKeyHash, issuer.key(hash));
    if (!ours) continue;
    const serial = Buffer.from(certId.serialNumber.valueBlock.valueHexView).toString('hex').replace(/^(00)+(?=[0-9a-f])/, '');
    responses.push(new pkijs.SingleResponse({ certID: certId, certStatus: certStatus(await lookup(serial)), thisUpdate: now, nextUpdate }));
  }
  // RFC 6960 s2.3: a request for no certificate of ours is answered "unauthorized".
  if (responses.length === 0) return statusOnly(UNAUTHORIZED);

  const basic = new pkijs.BasicOCSPResponse();
  basic.tbsResponseData.responderID = new asn1js.OctetString({ valueHex: issuer.keyHashSha1 });
  basic.tbsResponseData.producedAt = now;
  basic.tbsResponseData.responses = responses;
  const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === ID_PKIX_OCSP_NONCE);
  if (nonce) basic.tbsResponseData.responseExtensions = [nonce];
  const engine = new pkijs.CryptoEngine({ name: 'wardcert', crypto: signer.key.crypto });
  await basic.sign(signer.key.privateKey, signer.key.spec.hash, engine);
  const response = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: 0 }),
    responseBytes: new pkijs.ResponseBytes({
      responseType: ID_PKIX_OCSP_BASIC,
      response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }),
    }),
  });
  return new Uint8Array(response.toSchema().toBER(false));
}

/** RFC 6960 Appendix A.1: GET {url}/{url-encoding of base64 of the DER request}. */
export function decodeOcspGetPath(segment: string): Uint8Array | undefined {
  let b64: string;
  try {
    b64 = decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length > (MAX_OCSP_REQUEST_BYTES * 4) / 3 + 4) return undefined;
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

function parseRequest(der: Uint8Array): pkijs.OCSPRequest | undefined {
  if (der.length === 0 || der.length > MAX_OCSP_REQUEST_BYTES) return undefined;
  try {
    const asn = asn1js.fromBER(der);
    if (asn.offset === -1) return undefined;
    const request = new pkijs.OCSPRequest({ schema: asn.result });
    const count = request.tbsRequest.requestList.length;
    return count > 0 && count <= MAX_SINGLE_REQUESTS ? request : undefined;
  } catch {
    return undefined;
  }
}

function certStatus(s: CertStatus): asn1js.BaseBlock {
  if (s.status === 'good') return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } });
  if (s.status === 'unknown') return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } });
  const value: asn1js.BaseBlock[] = [new asn1js.GeneralizedTime({ valueDate: s.revokedAt })];
  if (s.reason) value.push(new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Enumerated({ value: s.reason })] }));
  return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value });
}

function statusOnly(status: number): Uint8Array {
  return new Uint8Array(new pkijs.OCSPResponse({ responseStatus: new asn1js.Enumerated({ value: status }) }).toSchema().toBER(false));
}

/** Hashes of the issuer's name and key as CertIDs carry them (RFC 6960 s4.1.1). */
function issuerHashes(cert: x509.X509Certificate) {
  const parsed = pkijs.Certificate.fromBER(cert.rawData);
  const nameDer = Buffer.from(parsed.subject.toSchema().toBER(false));
  const keyBits = Buffer.from(parsed.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView);
  const digest = (alg: string, data: Buffer) => new Uint8Array(createHash(alg).update(data).digest());
  return {
    name: (alg: string) => digest(alg, nameDer),
    key: (alg: string) => digest(alg, keyBits),
    keyHashSha1: digest('sha1', keyBits),
  };
}

function equal(a: asn1js.OctetString, b: Uint8Array): boolean {
  return Buffer.from(a.valueBlock.valueHexView).equals(Buffer.from(b));
}
