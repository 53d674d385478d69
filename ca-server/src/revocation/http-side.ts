import Koa from 'koa';
import type { Logger } from 'pino';
import { readBody } from '../acme/body.js';
import type { IssuingCa } from '../pki/issuing-ca.js';
import { answerOcsp, decodeOcspGetPath, MAX_OCSP_REQUEST_BYTES, type CertStatus } from '../pki/ocsp.js';
import type { Store } from '../store/index.js';
import type { CrlPublisher } from './crl-publisher.js';

export interface HttpSideOptions {
  store: Store;
  ca: IssuingCa;
  crl: CrlPublisher;
  logger: Logger;
}

const OCSP_GET_PREFIX = '/ocsp/';
const MAX_CACHE_S = 3600;

/** The CA's plain-HTTP side: what relying parties fetch without trusting anything first. */
export function createHttpSideApp(o: HttpSideOptions): Koa {
  const app = new Koa();
  const lookup = async (serial: string): Promise<CertStatus> => {
    const record = await o.store.certificates.bySerial(serial);
    if (!record || record.issuerKeyId !== o.ca.keyId) return { status: 'unknown' };
    return record.status === 'revoked' ? { status: 'revoked', revokedAt: record.revokedAt!, ...(record.revocationReason ? { reason: record.revocationReason } : {}) } : { status: 'good' };
  };
  const ocsp = async (ctx: Koa.Context, der: Uint8Array | undefined) => {
    ctx.type = 'application/ocsp-response';
    ctx.body = Buffer.from(await answerOcsp(der ?? new Uint8Array(), { certificate: o.ca.cert, key: o.ca.key }, lookup));
  };
  const caCertificates = {
    '/ca/intermediate.crt': () => ({ type: 'application/pkix-cert', body: Buffer.from(o.ca.cert.rawData) }),
    '/ca/root.crt': () => ({ type: 'application/pkix-cert', body: Buffer.from(o.ca.root.rawData) }),
    '/ca/chain.pem': () => ({ type: 'application/pem-certificate-chain', body: `${o.ca.cert.toString('pem')}\n${o.ca.root.toString('pem')}\n` }),
  } as const;

  app.use(async (ctx) => {
    try {
      if (ctx.method === 'POST' && ctx.path === '/ocsp') {
        if (ctx.request.type !== 'application/ocsp-request') {
          ctx.status = 415;
          ctx.body = 'Content-Type must be application/ocsp-request\n';
          return;
        }
        await ocsp(ctx, await readBody(ctx.req, MAX_OCSP_REQUEST_BYTES).catch(() => undefined));
        return;
      }
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
        ctx.status = 405;
        return;
      }
      if (ctx.path.startsWith(OCSP_GET_PREFIX)) {
        await ocsp(ctx, decodeOcspGetPath(ctx.path.slice(OCSP_GET_PREFIX.length)));
        return;
      }
      if (ctx.path === '/crl/intermediate.crl') {
        const crl = await o.crl.current();
        const seconds = Math.max(0, Math.min(MAX_CACHE_S, Math.floor((crl.nextUpdate.getTime() - Date.now()) / 1000)));
        ctx.type = 'application/pkix-crl';
        ctx.set('Cache-Control', `public, max-age=${seconds}`);
        ctx.body = Buffer.from(crl.der);
        return;
      }
      if (ctx.path in caCertificates) {
        const { type, body } = caCertificates[ctx.path as keyof typeof caCertificates]();
        ctx.type = type;
        ctx.body = body;
        return;
      }
      if (ctx.path === '/healthz') {
        await o.store.knex.raw('select 1');
        ctx.body = 'ok\n';
        return;
      }
      ctx.status = 404;
      ctx.body = 'not found\n';
    } catch (err) {
      o.logger.error({ err, path: ctx.path }, 'HTTP side request failed');
      ctx.status = 503;
      ctx.body = 'temporarily unavailable\n';
    }
  });
  return app;
}
