import Router from '@koa/router';
import Koa from 'koa';
import { newAccount, updateAccount } from './accounts.js';
import { recordRefusal } from './audit.js';
import { Admission } from './admission.js';
import { agentReport } from './agent-report.js';
import { postAuthorization, postChallenge } from './authorizations.js';
import { downloadCertificate, revokeCertificate } from './certificates.js';
import type { AcmeContext } from './context.js';
import { directory } from './directory.js';
import { finalize } from './finalize.js';
import { keyChange } from './key-change.js';
import { getOrder, listOrders, newOrder } from './orders.js';
import { AcmeProblem } from './problems.js';
import { getRenewalInfo } from './renewal-info.js';
import { ACME_PREFIX } from './urls.js';

/** The ACME HTTP API as a Koa app: routes, then one middleware that turns every failure into a problem document. */
export function createAcmeApp(acme: AcmeContext): Koa {
  const app = new Koa();
  app.proxy = false;
  const router = new Router({ prefix: ACME_PREFIX });
  const admission = acme.admission ?? new Admission({ maxValidationBacklog: Infinity, maxFinalizing: Infinity, retryAfterMs: 1000 });

  router.get('/directory', (ctx) => directory(acme, ctx));
  router.head('/new-nonce', (ctx) => {
    ctx.status = 200;
  });
  router.get('/new-nonce', (ctx) => {
    ctx.status = 204;
  });
  router.post('/new-account', (ctx) => newAccount(acme, ctx));
  router.post('/acct/:id', (ctx) => updateAccount(acme, ctx, ctx.params.id!));
  router.post('/acct/:id/orders', (ctx) => listOrders(acme, ctx, ctx.params.id!));
  router.post('/key-change', (ctx) => keyChange(acme, ctx));
  router.post('/new-order', (ctx) => {
    admission.admitNewOrder();
    return newOrder(acme, ctx);
  });
  router.post('/order/:id', (ctx) => getOrder(acme, ctx, ctx.params.id!));
  router.post('/order/:id/finalize', (ctx) => admission.finalize(() => finalize(acme, ctx, ctx.params.id!)));
  router.post('/authz/:id', (ctx) => postAuthorization(acme, ctx, ctx.params.id!));
  router.post('/chall/:id', (ctx) => {
    admission.admitChallenge();
    return postChallenge(acme, ctx, ctx.params.id!);
  });
  router.post('/cert/:serial', (ctx) => downloadCertificate(acme, ctx, ctx.params.serial!));
  router.post('/revoke-cert', (ctx) => revokeCertificate(acme, ctx));
  router.get('/renewal-info/:certId', (ctx) => getRenewalInfo(acme, ctx, ctx.params.certId!));
  router.post('/agent-report', (ctx) => agentReport(acme, ctx));

  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await admission.request(next);
      if (ctx.status === 404 && ctx.body === undefined) throw new AcmeProblem('malformed', `no ACME resource at ${ctx.path}`, { status: 404 });
      if (ctx.status === 405) throw new AcmeProblem('malformed', `${ctx.method} is not allowed on ${ctx.path}`, { status: 405 });
    } catch (err) {
      const problem = err instanceof AcmeProblem ? err : internal(acme, ctx, err);
      // The refusal stands either way; an audit store that cannot take it is logged, never hidden.
      await recordRefusal(acme, ctx, problem).catch((auditErr: unknown) => acme.logger.error({ err: auditErr, path: ctx.path }, 'audit entry of a refused request could not be written'));
      ctx.status = problem.status;
      ctx.type = 'application/problem+json';
      ctx.body = problem.document();
      for (const [k, v] of Object.entries(problem.extra.headers ?? {})) ctx.set(k, v);
      if (problem.type !== 'badNonce' && problem.status < 500) acme.logger.debug({ path: ctx.path, problem: problem.type }, problem.message);
    } finally {
      // Every response carries a fresh nonce (RFC 8555 s6.5), badNonce ones most of all.
      if (ctx.method !== 'GET' || ctx.path.endsWith('/new-nonce')) {
        ctx.set('Replay-Nonce', await acme.store.nonces.issue(acme.now(), acme.policy.nonceTtlMs));
        ctx.set('Cache-Control', 'no-store');
      }
      ctx.append('Link', `<${acme.urls.directory}>;rel="index"`);
      acme.observe?.(ctx.path, ctx.method, ctx.status, Number(process.hrtime.bigint() - started) / 1e9);
    }
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

function internal(acme: AcmeContext, ctx: Koa.Context, err: unknown): AcmeProblem {
  // Bad input never reaches here; what does is our fault, logged in full and told in one line.
  acme.logger.error({ err, path: ctx.path }, 'ACME request failed');
  return new AcmeProblem('serverInternal', 'the server could not complete this request; it has been logged');
}
