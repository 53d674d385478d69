import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

/** Reading OCSP requests (RFC 6960 s4.1, Appendix A.1) with pkijs; anything off is "malformed", never an exception. */

export const MAX_OCSP_REQUEST_BYTES = 16 * 1024;
/** Far more CertIDs than any client sends; bounds the lookups and hashing one request can cause. */
const MAX_SINGLE_REQUESTS = 20;
const ID_PKIX_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';
/** RFC 9654 s2.1: a nonce of 0 or of more than 128 octets is refused with malformedRequest. */
const MAX_NONCE_BYTES = 128;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface OcspRequestParts {
  requests: pkijs.Request[];
  /** The request's nonce extension, to be echoed in the response. */
  nonce?: pkijs.Extension;
}

/** The parts of a DER OCSPRequest a response needs, or undefined when the request is malformed. */
export function parseOcspRequest(der: Uint8Array): OcspRequestParts | undefined {
  if (der.length === 0 || der.length > MAX_OCSP_REQUEST_BYTES) return undefined;
  let tbs: pkijs.TBSRequest;
  try {
    const asn = asn1js.fromBER(der);
    // offset is -1 on a decoding error; short of the end, bytes trail the request.
    if (asn.offset !== der.length) return undefined;
    tbs = new pkijs.OCSPRequest({ schema: asn.result }).tbsRequest;
  } catch {
    return undefined;
  }
  const count = tbs.requestList.length;
  if ((tbs.version ?? 0) !== 0 || count === 0 || count > MAX_SINGLE_REQUESTS) return undefined;
  const nonce = tbs.requestExtensions?.find((e) => e.extnID === ID_PKIX_OCSP_NONCE);
  if (nonce && !validNonce(nonce)) return undefined;
  return { requests: tbs.requestList, nonce };
}

/** The serial a CertID asks about, as StatusLookup takes it: lowercase hex without the DER sign byte. */
export function serialHex(certId: pkijs.CertID): string {
  const bytes = certId.serialNumber.valueBlock.valueHexView;
  return Buffer.from(bytes.length > 1 && bytes[0] === 0 ? bytes.subarray(1) : bytes).toString('hex');
}

/**
 * RFC 6960 Appendix A.1: GET {url}/{url-encoding of base64 of the DER request}. Clients differ in what they
 * percent-encode, so '/', '+' and '=' are taken raw or as %2F, %2B, %3D alike; decodeURIComponent leaves a raw
 * '+' alone (it is not form decoding).
 */
export function decodeOcspGetPath(pathSegment: string): Uint8Array<ArrayBuffer> | undefined {
  let b64: string;
  try {
    b64 = decodeURIComponent(pathSegment);
  } catch {
    return undefined;
  }
  if (b64.length === 0 || b64.length > Math.ceil(MAX_OCSP_REQUEST_BYTES / 3) * 4 || !BASE64.test(b64)) return undefined;
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

/** RFC 9654: the extension's value is a DER OCTET STRING of 1 to 128 octets. */
function validNonce(extension: pkijs.Extension): boolean {
  const value = extension.extnValue.valueBlock.valueHexView;
  const inner = asn1js.fromBER(value);
  if (inner.offset !== value.byteLength || !(inner.result instanceof asn1js.OctetString) || inner.result.idBlock.isConstructed) return false;
  const length = inner.result.valueBlock.valueHexView.byteLength;
  return length >= 1 && length <= MAX_NONCE_BYTES;
}
