import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { CertStatus, OcspSigner } from './ocsp.js';

/** Building and signing OCSP responses (RFC 6960 s4.2) with pkijs. */

/** OCSPResponseStatus values this responder sends (RFC 6960 s4.2.1). */
export const OCSP_RESPONSE_STATUS = { successful: 0, malformedRequest: 1, unauthorized: 6 } as const;

export interface ResponseContent {
  /** byKey ResponderID: SHA-1 of the signer's public key bits. */
  responderKeyHash: asn1js.OctetString;
  producedAt: Date;
  responses: pkijs.SingleResponse[];
  /** The request's nonce extension, echoed unchanged (RFC 9654). */
  nonce?: pkijs.Extension;
}

/** An OCSPResponse with an error status and, as RFC 6960 s4.2.1 has it, no responseBytes. */
export function statusOnly(status: number): Uint8Array<ArrayBuffer> {
  return der(new pkijs.OCSPResponse({ responseStatus: new asn1js.Enumerated({ value: status }) }));
}

export function singleResponse(certID: pkijs.CertID, status: CertStatus, thisUpdate: Date, nextUpdate: Date): pkijs.SingleResponse {
  return new pkijs.SingleResponse({ certID, certStatus: certStatus(status), thisUpdate, nextUpdate });
}

export async function signedResponse(content: ResponseContent, signer: OcspSigner, engine: pkijs.CryptoEngine): Promise<Uint8Array<ArrayBuffer>> {
  const basic = new pkijs.BasicOCSPResponse();
  const data = basic.tbsResponseData;
  data.responderID = content.responderKeyHash; // pkijs writes an OCTET STRING as byKey [2]
  data.producedAt = content.producedAt;
  data.responses = content.responses;
  if (content.nonce) data.responseExtensions = [content.nonce];
  await sign(basic, signer, engine);
  return der(
    new pkijs.OCSPResponse({
      responseStatus: new asn1js.Enumerated({ value: OCSP_RESPONSE_STATUS.successful }),
      responseBytes: new pkijs.ResponseBytes({
        responseType: pkijs.id_PKIX_OCSP_Basic,
        response: new asn1js.OctetString({ valueHex: der(basic) }),
      }),
    }),
  );
}

/**
 * CertStatus (RFC 6960 s4.2.1). pkijs has no class for this CHOICE and takes the tagged value as is:
 * good [0] NULL, revoked [1] RevokedInfo, unknown [2] NULL (all IMPLICIT).
 */
function certStatus(s: CertStatus): asn1js.BaseBlock {
  if (s.status === 'good') return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } });
  if (s.status === 'unknown') return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } });
  const revokedInfo: asn1js.BaseBlock[] = [new asn1js.GeneralizedTime({ valueDate: wholeSeconds(s.revokedAt) })];
  if (s.reason !== undefined) {
    // revocationReason [0] EXPLICIT CRLReason
    revokedInfo.push(new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Enumerated({ value: s.reason })] }));
  }
  return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: revokedInfo });
}

/**
 * What basic.sign() does, except that pkijs would pick the RSA-PSS salt itself (the hash length): here the
 * signer's signingAlgorithm decides, in the signature and in its AlgorithmIdentifier alike.
 */
async function sign(basic: pkijs.BasicOCSPResponse, signer: OcspSigner, engine: pkijs.CryptoEngine): Promise<void> {
  const { signatureAlgorithm, parameters } = await engine.getSignatureParameters(signer.privateKey, hashOf(signer));
  const algorithm = parameters.algorithm as Algorithm & { saltLength?: number };
  const salt = (signer.signingAlgorithm as Partial<RsaPssParams>).saltLength;
  if (algorithm.name === 'RSA-PSS' && salt !== undefined && salt !== algorithm.saltLength) {
    algorithm.saltLength = salt;
    const pss = pkijs.RSASSAPSSParams.fromBER(signatureAlgorithm.algorithmParams.toBER(false));
    pss.saltLength = salt;
    signatureAlgorithm.algorithmParams = pss.toSchema();
  }
  basic.signatureAlgorithm = signatureAlgorithm;
  // BasicOCSPResponse.toSchema() writes tbsView, so it must hold the bytes that were signed.
  const tbs = new Uint8Array(basic.tbsResponseData.toSchema(true).toBER(false));
  basic.tbsResponseData.tbsView = tbs;
  const signature = await engine.signWithPrivateKey(tbs, signer.privateKey, { algorithm });
  basic.signature = new asn1js.BitString({ valueHex: signature });
}

/** The signature hash: the signingAlgorithm's (ECDSA), else the one an RSA key is bound to; never pkijs's SHA-1 default. */
function hashOf(signer: OcspSigner): string {
  const hash = (signer.signingAlgorithm as { hash?: HashAlgorithmIdentifier }).hash ?? (signer.privateKey.algorithm as Partial<RsaHashedKeyAlgorithm>).hash;
  const name = typeof hash === 'string' ? hash : hash?.name;
  if (!name) throw new Error('OCSP signer: signingAlgorithm names no hash');
  return name;
}

/** DER GeneralizedTime may carry fractions, but RFC 5280 practice (and many parsers) want whole seconds. */
export function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function der(value: { toSchema(): asn1js.BaseBlock }): Uint8Array<ArrayBuffer> {
  return new Uint8Array(value.toSchema().toBER(false));
}
