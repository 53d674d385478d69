import type Koa from 'koa';
import { html, type Html } from '../html.js';
import type { AdminProblem } from '../problems.js';
import type { SignedIn } from '../signed-in.js';
import { layout } from './layout.js';
import { loginForm } from './login.js';

/** A page's error as HTML: the login form when signing in is what is missing, else the problem in words. */
export function errorPage(problem: AdminProblem, ctx: Koa.Context): Html {
  if (problem.status === 401) return layout('Sign in', {}, loginForm({ notice: problem.message === 'sign in first' ? undefined : problem.message }));
  const signedIn = ctx.state.signedIn as SignedIn | undefined;
  return layout(problem.title, signedIn ? { user: signedIn.user, csrfToken: signedIn.session.csrfToken } : {}, html`
<p class="notice error" role="alert">${problem.message}</p>
<p><a href="/admin/">Back to the start page</a></p>`);
}
