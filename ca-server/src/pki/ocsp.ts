import type * as x509 from '@peculiar/x509';
import * as pkijs from 'pkijs';
import { ocspIssuer } from './ocsp-issuer.js';
import { parseOcspRequest, serialHex } from './ocsp-request.js';
import { OCSP_RESPONSE_STATUS, signedResponse, singleResponse, statusOnly, wholeSeconds } from './ocsp-response.js';

export { decodeOcspGetPath, MAX_OCSP_REQUEST_BYTES } from './ocsp-request.js';

/** RFC 6960 OCSP answers, built with pkijs, signed directly by the issuing CA (s4.2.2.2, case 1). */

export interface OcspSigner {
  /** The issuing CA certificate; it signs responses itself, so responses carry no certificates. */
  certificate: x509.X509Certificate;
  /** A key of `crypto` (a SigningKey's privateKey). */
  privateKey: CryptoKey;
  /** globalThis.crypto, or @peculiar/webcrypto where Node lacks the curve (Brainpool). */
  crypto: Crypto;
  /** e.g. { name: 'ECDSA', hash: 'SHA-384' } or { name: 'RSA-PSS', saltLength: 32 } (the hash then comes from the key). */
  signingAlgorithm: EcdsaParams | RsaPssParams | Algorithm;
}

export type CertStatus = { status: 'good' } | { status: 'revoked'; revokedAt: Date; reason?: number } | { status: 'unknown' };
/** Takes a lowercase hex serial without a leading 00 sign byte. */
export type StatusLookup = (serialHex: string) => Promise<CertStatus>;

export interface OcspOptions {
  now?: Date;
  /** nextUpdate = thisUpdate + this; default four days, a little more than a certificate's default life. */
  validitySeconds?: number;
}

const DEFAULT_VALIDITY_SECONDS = 4 * 86_400;

/**
 * Answers a DER OCSPRequest with a DER OCSPResponse. Bad input gets an error status, never an exception;
 * only a failing lookup or signer throws.
 */
export async function answerOcsp(requestDer: Uint8Array, signer: OcspSigner, lookup: StatusLookup, opts: OcspOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  const request = parseOcspRequest(requestDer);
  if (!request) return statusOnly(OCSP_RESPONSE_STATUS.malformedRequest);
  // An engine of our own around the signer's webcrypto instead of pkijs.setEngine(): other pkijs users keep theirs.
  const engine = new pkijs.CryptoEngine({ name: 'wardcert-ocsp', crypto: signer.crypto });
  const issuer = await ocspIssuer(signer.certificate, engine);
  const ours = await Promise.all(request.requests.map((r) => issuer.issued(r.reqCert)));
  // Nothing asked about this CA: "unauthorized" (RFC 6960 s2.3, RFC 5019 s2.2.3), as the responder is
  // authoritative for none of it. A mixed request still gets one SingleResponse per CertID (s4.2.2.3), and the
  // foreign ones are "unknown", the status s2.2 gives to an issuer the responder does not serve.
  if (!ours.includes(true)) return statusOnly(OCSP_RESPONSE_STATUS.unauthorized);

  const now = wholeSeconds(opts.now ?? new Date());
  const nextUpdate = wholeSeconds(new Date(now.getTime() + (opts.validitySeconds ?? DEFAULT_VALIDITY_SECONDS) * 1000));
  const responses: pkijs.SingleResponse[] = [];
  for (const [i, { reqCert }] of request.requests.entries()) {
    const status: CertStatus = ours[i] ? await lookup(serialHex(reqCert)) : { status: 'unknown' };
    responses.push(singleResponse(reqCert, status, now, nextUpdate));
  }
  return signedResponse({ responderKeyHash: issuer.keyHash, producedAt: now, responses, nonce: request.nonce }, signer, engine);
}
