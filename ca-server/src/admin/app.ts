import Router from '@koa/router';
import Koa from 'koa';
import { enforceRoute } from './authorize.js';
import type { AdminContext } from './context.js';
import { AdminProblem } from './problems.js';
import { ADMIN_ROUTES } from './routes.js';
import { securityHeaders } from './security-headers.js';
import { errorPage } from './views/error.js';

export const ADMIN_PREFIX = '/admin';

/** Whether a request belongs to the admin app rather than the ACME one. */
export const isAdminPath = (url: string | undefined): boolean =>
  url !== undefined && (url === ADMIN_PREFIX || url.startsWith(`${ADMIN_PREFIX}/`) || url.startsWith(`${ADMIN_PREFIX}?`));

const isApiPath = (path: string) => path.startsWith(`${ADMIN_PREFIX}/api/`);

/** The dashboard and its JSON API: every route from the table, behind the middleware that enforces it. */
export function createAdminApp(admin: AdminContext): Koa {
  const app = new Koa();
  app.proxy = false;
  const router = new Router({ prefix: ADMIN_PREFIX });
  for (const route of ADMIN_ROUTES) {
    router.register(route.path, [route.method], [enforceRoute(admin, route), (ctx) => route.handler(admin, ctx)]);
  }

  app.use(securityHeaders);
  app.use(async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 405) throw new AdminProblem('malformed', `${ctx.method} is not allowed on ${ctx.path}`);
      if (ctx.status === 404 && ctx.body === undefined) throw new AdminProblem('notFound', `nothing at ${ctx.path}`);
    } catch (err) {
      const problem = err instanceof AdminProblem ? err : internal(admin, ctx, err);
      for (const [k, v] of Object.entries(problem.headers)) ctx.set(k, v);
      ctx.status = problem.status;
      if (isApiPath(ctx.path)) {
        ctx.type = 'application/problem+json';
        ctx.body = problem.document();
      } else {
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = errorPage(problem, ctx).toString();
      }
    }
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

function internal(admin: AdminContext, ctx: Koa.Context, err: unknown): AdminProblem {
  admin.logger.error({ err, path: ctx.path }, 'admin request failed');
  return new AdminProblem('internal', 'the server could not complete this request; it has been logged');
}
