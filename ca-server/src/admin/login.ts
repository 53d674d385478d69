import type Koa from 'koa';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { AuditEvent } from '../audit/event.js';
import { peerAddress } from '../server/peer-address.js';
import type { User } from '../store/index.js';
import { bodyOf } from './body.js';
import type { Html } from './html.js';
import type { AdminContext } from './context.js';
import { AdminProblem } from './problems.js';
import { DASHBOARD_READERS } from './roles.js';
import { endSession, startSession, type Session } from './session.js';
import { anySession, signedIn } from './signed-in.js';
import { totpUri } from './totp.js';
import { checkPassword, checkTotp, confirmTotpEnrolment, requiresTotp, startTotpEnrolment, type LoginStep } from './users.js';
import { layout } from './views/layout.js';
import { enrolForm, loginForm, totpForm } from './views/login.js';

const passwordForm = z.object({ username: z.string().max(256), password: z.string().max(1024) }).loose();
const codeForm = z.object({ code: z.string().trim().regex(/^[0-9]{6}$/, 'a code has six digits') }).loose();

function page(ctx: Koa.Context, title: string, body: Html, status = 200): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = layout(title, {}, body).toString();
}

function redirect(ctx: Koa.Context, to: string): void {
  ctx.status = 303;
  ctx.redirect(to);
}

const actorOf = (user: User) => ({ kind: 'user' as const, id: user.id, name: user.username });
const acting = (ctx: Koa.Context, user: User) => ({ actor: actorOf(user), source: peerAddress(ctx) ?? 'unknown' });

function audit(admin: AdminContext, ctx: Koa.Context, event: Omit<AuditEvent, 'source'>): Promise<void> {
  return admin.audit.record({ ...event, source: peerAddress(ctx) ?? 'unknown' });
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * A failed step: audited (login.failure, and login.locked when this failure locks the account or
 * it was locked already), then the login form again, with Retry-After while locked.
 */
async function refuse(admin: AdminContext, ctx: Koa.Context, step: Extract<LoginStep, { ok: false }>, actor: AuditEvent['actor'], which: string): Promise<void> {
  const locked = step.retryAfterMs > 0;
  if (step.reason === 'invalid') await audit(admin, ctx, { type: 'login.failure', outcome: 'failure', actor, details: { step: which } });
  if (locked) {
    await audit(admin, ctx, { type: 'login.locked', outcome: 'failure', actor, details: { step: which, retryAfterSeconds: seconds(step.retryAfterMs) } });
    ctx.set('Retry-After', String(seconds(step.retryAfterMs)));
  }
  const notice = locked ? `Too many failed attempts. Try again in ${seconds(step.retryAfterMs)} seconds.` : 'The username, password or code is wrong.';
  page(ctx, 'Sign in', loginForm({ notice }), locked ? 429 : 401);
}

/** Where a signed-in user starts: the overview, or the audit trail for auditors. */
export async function home(_admin: AdminContext, ctx: Koa.Context): Promise<void> {
  redirect(ctx, DASHBOARD_READERS.includes(signedIn(ctx).user.role) ? '/admin/overview' : '/admin/audit');
}

export async function loginPage(_admin: AdminContext, ctx: Koa.Context): Promise<void> {
  if (anySession(ctx)?.stage === 'active') return redirect(ctx, '/admin/');
  page(ctx, 'Sign in', loginForm());
}

/** Step one: username and password. Unknown users, wrong passwords and disabled accounts look alike. */
export async function loginSubmit(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  const form = bodyOf(ctx, passwordForm);
  // A session from an earlier login in this browser is dropped, never reused.
  const earlier = anySession(ctx);
  if (earlier) await admin.store.sessions.delete(earlier.idHash);
  const step = await checkPassword(admin, form.username, form.password);
  if (!step.ok) {
    const user = await admin.store.users.byUsername(form.username).catch(() => undefined);
    return refuse(admin, ctx, step, user ? actorOf(user) : { kind: 'user', id: form.username.slice(0, 64) }, 'password');
  }
  if (step.next === 'totp') {
    await startSession(admin, ctx, step.user.id, 'password');
    return redirect(ctx, '/admin/login/totp');
  }
  if (step.next === 'enrol-totp') {
    await startSession(admin, ctx, step.user.id, 'enrol');
    return redirect(ctx, '/admin/login/enrol');
  }
  await startSession(admin, ctx, step.user.id, 'active');
  await audit(admin, ctx, { type: 'login.success', outcome: 'success', actor: actorOf(step.user), details: { secondFactor: false } });
  redirect(ctx, '/admin/');
}

function pendingSession(ctx: Koa.Context, ...stages: Session['stage'][]): Session {
  const session = anySession(ctx);
  if (!session || !stages.includes(session.stage)) throw new AdminProblem('unauthenticated', 'sign in first');
  return session;
}

async function sessionUser(admin: AdminContext, session: Session): Promise<User> {
  const user = await admin.store.users.byId(session.userId);
  if (!user || user.disabled) {
    await admin.store.sessions.delete(session.idHash);
    throw new AdminProblem('unauthenticated', 'this account is disabled');
  }
  return user;
}

/** A fresh session id once the login is complete: the half-signed-in id is worth nothing. */
async function activate(admin: AdminContext, ctx: Koa.Context, pending: Session, user: User, details: Record<string, boolean>): Promise<void> {
  await admin.store.sessions.delete(pending.idHash);
  await startSession(admin, ctx, user.id, 'active');
  await audit(admin, ctx, { type: 'login.success', outcome: 'success', actor: actorOf(user), details });
  redirect(ctx, '/admin/');
}

export async function totpPage(_admin: AdminContext, ctx: Koa.Context): Promise<void> {
  page(ctx, 'Two-factor code', totpForm(pendingSession(ctx, 'password').csrfToken));
}

/** Step two. A wrong code counts towards the same lockout as a wrong password. */
export async function totpSubmit(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  const session = pendingSession(ctx, 'password');
  const { code } = bodyOf(ctx, codeForm);
  const user = await sessionUser(admin, session);
  const step = await checkTotp(admin, user.id, code);
  if (!step.ok) {
    if (step.retryAfterMs > 0) {
      // Locked: this half-done login ends; step one starts again once the delay has passed.
      await endSession(admin, ctx, session);
      return refuse(admin, ctx, step, actorOf(user), 'totp');
    }
    await audit(admin, ctx, { type: 'login.failure', outcome: 'failure', actor: actorOf(user), details: { step: 'totp' } });
    return page(ctx, 'Two-factor code', totpForm(session.csrfToken, 'That code is not right. Codes change every 30 seconds.'), 401);
  }
  await activate(admin, ctx, session, user, { secondFactor: true });
}

/** Enrolment: required before an admin's or operator's first login completes, offered to the others. */
export async function enrolPage(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  const session = pendingSession(ctx, 'enrol', 'active');
  const user = await sessionUser(admin, session);
  // One secret per enrolment, kept with the session until a code proves the app holds it.
  const secret = session.pendingTotpSecret ?? startTotpEnrolment(user.username).secret;
  if (!session.pendingTotpSecret) await admin.store.sessions.advance(session.idHash, session.stage, secret);
  page(ctx, 'Set up two-factor sign-in', await enrolView(session, user, secret));
}

async function enrolView(session: Session, user: User, secret: string, notice?: string) {
  const qrSvg = await QRCode.toString(totpUri(user.username, secret), { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return enrolForm({ csrfToken: session.csrfToken, qrSvg, secret, required: requiresTotp({ ...user, totpEnrolledAt: null }), notice });
}

export async function enrolSubmit(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  const session = pendingSession(ctx, 'enrol', 'active');
  const { code } = bodyOf(ctx, codeForm);
  const user = await sessionUser(admin, session);
  const secret = session.pendingTotpSecret;
  if (!secret) return redirect(ctx, '/admin/login/enrol');
  const step = await confirmTotpEnrolment(admin, user.id, secret, code, acting(ctx, user));
  if (!step.ok) {
    await audit(admin, ctx, { type: 'totp.enrolled', outcome: 'failure', actor: actorOf(user), subject: { kind: 'user', id: user.id } });
    if (step.retryAfterMs > 0) {
      await endSession(admin, ctx, session);
      return refuse(admin, ctx, step, actorOf(user), 'enrol');
    }
    return page(ctx, 'Set up two-factor sign-in', await enrolView(session, user, secret, 'That code is not right; check the clock of the device with the app.'), 400);
  }
  await activate(admin, ctx, session, step.user, { secondFactor: true, enrolled: true });
}

export async function logout(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  const { session, user } = signedIn(ctx);
  await endSession(admin, ctx, session);
  await audit(admin, ctx, { type: 'logout', outcome: 'success', actor: actorOf(user) });
  redirect(ctx, '/admin/login');
}
