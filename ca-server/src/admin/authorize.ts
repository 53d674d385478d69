import type Koa from 'koa';
import { readRequestBody } from './body.js';
import type { AdminContext } from './context.js';
import { changesState, checkCsrfToken, checkOrigin, CSRF_FIELD, CSRF_HEADER } from './csrf.js';
import { AdminProblem } from './problems.js';
import type { AdminRoute } from './routes.js';
import { loadSession } from './session.js';
import type { SignedIn } from './signed-in.js';

/**
 * Runs before every handler: finds the session, answers 401 without one and 403 for a role the
 * route's table entry does not list, then (for anything that changes state) checks Origin and the
 * session's CSRF token and reads the body.
 */
export function enforceRoute(admin: AdminContext, route: AdminRoute): Koa.Middleware {
  return async (ctx, next) => {
    const session = await loadSession(admin, ctx);
    ctx.state.session = session;
    if (route.access !== 'public') {
      if (!session || session.stage !== 'active') throw new AdminProblem('unauthenticated', 'sign in first');
      const user = await admin.store.users.byId(session.userId);
      if (!user || user.disabled) {
        // A disabled user's sessions end at their next request.
        await admin.store.sessions.deleteForUser(session.userId);
        throw new AdminProblem('unauthenticated', 'this account is disabled');
      }
      if (route.access !== 'signed-in' && !route.access.includes(user.role)) {
        throw new AdminProblem('forbidden', `the ${user.role} role may not use ${route.method} ${ctx.path}`);
      }
      ctx.state.signedIn = { session, user } satisfies SignedIn;
    }
    if (changesState(ctx)) {
      checkOrigin(ctx);
      ctx.state.body = await readRequestBody(ctx);
      if (!route.originOnly) {
        if (!session) throw new AdminProblem('unauthenticated', 'sign in first');
        const field = (ctx.state.body as Record<string, unknown>)[CSRF_FIELD];
        checkCsrfToken(session, ctx.get(CSRF_HEADER) || (typeof field === 'string' ? field : undefined));
      }
    }
    await next();
  };
}
