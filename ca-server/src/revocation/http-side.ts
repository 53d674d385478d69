import Koa from 'koa';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { IssuingCa } from '../pki/issuing-ca.js';
import type { Store } from '../store/index.js';
import type { CrlPublisher } from './crl-publisher.js';
import { OCSP_GET_PREFIX, ocspHandlers } from './ocsp-http.js';

export interface HttpSideOptions {
  store: Store;
  ca: IssuingCa;
  crl: CrlPublisher;
  logger: Logger;
  /** Where to count responses by route and status (wardcert_http_side_responses_total). */
  metrics?: { registry: Registry };
}

type Handler = (ctx: Koa.Context) => Promise<void> | void;
/** `name` labels metrics and logs: never the path, which for OCSP GET carries the whole request. */
interface Route {
  name: string;
  GET?: Handler;
  POST?: Handler;
}

/** Caches may keep a CRL until its nextUpdate, but a revocation should reach them sooner than that. */
const MAX_CRL_CACHE_S = 300;
const HEALTH_TIMEOUT_MS = 2_000;
const RESPONSES_METRIC = 'wardcert_http_side_responses_total';

/**
 * The CA's plain-HTTP side: what relying parties fetch before they trust anything (CRL, OCSP, CA
 * certificates), and a health check for load balancers. Bad input never gets a 5xx.
 */
export function createHttpSideApp(o: HttpSideOptions): Koa {
  const ocsp = ocspHandlers(o);
  const fixed = (type: string, body: string | Buffer): Handler => (ctx) => {
    ctx.type = type;
    ctx.body = body;
  };
  const routes = new Map<string, Route>([
    ['/crl/intermediate.crl', { name: 'crl', GET: (ctx) => serveCrl(ctx, o) }],
    ['/ocsp', { name: 'ocsp', POST: ocsp.post }],
    ['/ca/intermediate.crt', { name: 'ca', GET: fixed('application/pkix-cert', Buffer.from(o.ca.cert.rawData)) }],
    ['/ca/root.crt', { name: 'ca', GET: fixed('application/pkix-cert', Buffer.from(o.ca.root.rawData)) }],
    ['/ca/chain.pem', { name: 'ca', GET: fixed('application/pem-certificate-chain', `${o.ca.cert.toString('pem')}\n${o.ca.root.toString('pem')}\n`) }],
    ['/healthz', { name: 'healthz', GET: (ctx) => health(ctx, o) }],
  ]);
  const ocspGet: Route = { name: 'ocsp', GET: ocsp.get };
  const responses = o.metrics && responseCounter(o.metrics.registry);

  const app = new Koa();
  app.on('error', (err) => o.logger.error({ err }, 'HTTP side connection error'));
  app.use(async (ctx) => {
    const route = routes.get(ctx.path) ?? (ctx.path.startsWith(OCSP_GET_PREFIX) ? ocspGet : undefined);
    try {
      if (!route) {
        ctx.status = 404;
        ctx.body = 'not found\n';
        return;
      }
      const handler = ctx.method === 'GET' || ctx.method === 'HEAD' ? route.GET : ctx.method === 'POST' ? route.POST : undefined;
      if (!handler) {
        ctx.status = 405;
        ctx.set('Allow', route.GET ? 'GET, HEAD' : 'POST');
        ctx.body = 'method not allowed\n';
        return;
      }
      await handler(ctx);
    } catch (err) {
      o.logger.error({ err, route: route?.name, method: ctx.method }, 'HTTP side request failed');
      ctx.status = 503;
      ctx.type = 'text/plain'; // a handler may have set its own type before failing
      ctx.set('Cache-Control', 'no-store');
      ctx.body = 'temporarily unavailable\n';
    } finally {
      responses?.inc({ route: route?.name ?? 'none', status: String(ctx.status) });
    }
  });
  return app;
}

async function serveCrl(ctx: Koa.Context, o: HttpSideOptions): Promise<void> {
  const crl = await o.crl.current();
  const untilNext = Math.floor((crl.nextUpdate.getTime() - Date.now()) / 1000);
  ctx.status = 200;
  ctx.set('Cache-Control', `public, max-age=${Math.max(0, Math.min(MAX_CRL_CACHE_S, untilNext))}`);
  // The key id keeps the tag unique across an issuing CA's rotation, where numbers start again.
  ctx.etag = `${o.ca.keyId}.${crl.number}`;
  if (ctx.fresh) {
    ctx.status = 304;
    return;
  }
  ctx.type = 'application/pkix-crl';
  ctx.body = Buffer.from(crl.der);
}

async function health(ctx: Koa.Context, o: HttpSideOptions): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS)));
  const answered = o.store.knex.raw('select 1').then(
    () => true,
    (err: unknown) => {
      o.logger.warn({ err, event: 'health.storeDown' }, 'health check: the store does not answer');
      return false;
    },
  );
  const ok = await Promise.race([answered, timedOut]).finally(() => clearTimeout(timer));
  ctx.status = ok ? 200 : 503;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = ok ? 'ok\n' : 'store unavailable\n';
}

/** One counter per registry, so that a second app on the same registry shares it. */
function responseCounter(registry: Registry): Counter<'route' | 'status'> {
  const existing = registry.getSingleMetric(RESPONSES_METRIC);
  if (existing) return existing as Counter<'route' | 'status'>;
  return new Counter({
    name: RESPONSES_METRIC,
    help: 'Responses of the HTTP side (CRL, OCSP, CA certificates, health) by route and status',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
}
