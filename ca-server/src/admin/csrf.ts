import type Koa from 'koa';
import { AdminProblem } from './problems.js';
import { sameToken, type Session } from './session.js';

export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD']);

export const changesState = (ctx: Koa.Context) => !SAFE_METHODS.has(ctx.method);

/**
 * Every state-changing request must come from our own pages: browsers send Origin on every POST,
 * and another site cannot make it ours. Requests without one are refused too.
 */
export function checkOrigin(ctx: Koa.Context): void {
  const origin = ctx.get('origin');
  if (!origin) throw new AdminProblem('csrf', 'the request has no Origin header');
  if (origin !== `https://${ctx.host}`) throw new AdminProblem('csrf', `requests from ${origin.slice(0, 100)} are refused`);
}

/** The session's token, from the X-CSRF-Token header (API calls) or the form's hidden field. */
export function checkCsrfToken(session: Session, token: string | undefined): void {
  if (!token) throw new AdminProblem('csrf', 'the request carries no CSRF token');
  if (!sameToken(token, session.csrfToken)) throw new AdminProblem('csrf', 'the CSRF token does not match this session');
}
