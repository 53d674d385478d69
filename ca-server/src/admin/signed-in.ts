import type Koa from 'koa';
import type { User } from '../store/index.js';
import { AdminProblem } from './problems.js';
import type { Session } from './session.js';

export interface SignedIn {
  session: Session;
  user: User;
}

/** The signed-in user of a route whose table entry is not public (the middleware set it). */
export function signedIn(ctx: Koa.Context): SignedIn {
  const value = ctx.state.signedIn as SignedIn | undefined;
  if (!value) throw new AdminProblem('unauthenticated', 'sign in first');
  return value;
}

/** The request's session of any stage, for the login steps. */
export const anySession = (ctx: Koa.Context): Session | undefined => ctx.state.session as Session | undefined;
