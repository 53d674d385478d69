import type Koa from 'koa';
import type { AdminContext } from '../context.js';
import { signedIn } from '../signed-in.js';

/** Who is signed in, with the CSRF token the page's scripts send back in X-CSRF-Token. */
export async function sessionApi(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  const { session, user } = signedIn(ctx);
  ctx.body = {
    user: { id: user.id, username: user.username, role: user.role },
    csrfToken: session.csrfToken,
    idleExpiresAt: new Date(admin.now().getTime() + admin.sessionPolicy.idleMs).toISOString(),
    absoluteExpiresAt: new Date(session.createdAt.getTime() + admin.sessionPolicy.absoluteMs).toISOString(),
  };
}
