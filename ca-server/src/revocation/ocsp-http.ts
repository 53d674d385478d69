import type Koa from 'koa';
import { readBody } from '../acme/body.js';
import { AcmeProblem } from '../acme/problems.js';
import type { IssuingCa } from '../pki/issuing-ca.js';
import { answerOcsp, decodeOcspGetPath, MAX_OCSP_REQUEST_BYTES, type CertStatus, type OcspSigner } from '../pki/ocsp.js';
import type { Store } from '../store/index.js';

export const OCSP_GET_PREFIX = '/ocsp/';

/** RFC 6960 Appendix A over HTTP: POST of the DER request, or GET with it base64 in the path. */
export function ocspHandlers(o: { store: Store; ca: IssuingCa }) {
  const signer: OcspSigner = {
    certificate: o.ca.cert,
    privateKey: o.ca.key.privateKey,
    crypto: o.ca.key.crypto,
    signingAlgorithm: o.ca.key.signingAlgorithm,
  };
  const lookup = async (serial: string): Promise<CertStatus> => {
    const record = await o.store.certificates.bySerial(serial);
    // Only what this issuing key signed: a serial from elsewhere, or from before a key rotation, is unknown.
    if (!record || record.issuerKeyId !== o.ca.keyId) return { status: 'unknown' };
    if (record.status !== 'revoked') return { status: 'good' };
    return { status: 'revoked', revokedAt: record.revokedAt!, ...(record.revocationReason ? { reason: record.revocationReason } : {}) };
  };
  // Undecodable input still gets an OCSP answer: answerOcsp turns an empty request into malformedRequest.
  const answer = async (ctx: Koa.Context, der: Uint8Array | undefined) => {
    const response = await answerOcsp(der ?? new Uint8Array(), signer, lookup);
    ctx.type = 'application/ocsp-response';
    ctx.body = Buffer.from(response);
  };

  return {
    async post(ctx: Koa.Context): Promise<void> {
      if (ctx.request.type !== 'application/ocsp-request') {
        ctx.status = 415;
        ctx.body = 'Content-Type must be application/ocsp-request\n';
        return;
      }
      let der: Uint8Array;
      try {
        der = await readBody(ctx.req, MAX_OCSP_REQUEST_BYTES);
      } catch (err) {
        if (!(err instanceof AcmeProblem && err.status === 413)) throw err;
        ctx.status = 413;
        // Closing stops Node from reading (and discarding) the rest of a huge body.
        ctx.set('Connection', 'close');
        ctx.body = `an OCSP request has at most ${MAX_OCSP_REQUEST_BYTES} bytes\n`;
        return;
      }
      await answer(ctx, der);
    },
    async get(ctx: Koa.Context): Promise<void> {
      await answer(ctx, decodeOcspGetPath(ctx.path.slice(OCSP_GET_PREFIX.length)));
    },
  };
}
