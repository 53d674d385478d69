import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { peerAddress } from '../server/peer-address.js';
import type { SessionRecord, SessionStage, Store } from '../store/index.js';

export const SESSION_COOKIE = 'wardcert_admin';
/** 15 minutes idle, 8 hours absolute: the limits, for a shared ward workstation. */
export const SESSION_IDLE_MS = 15 * 60_000;
export const SESSION_ABSOLUTE_MS = 8 * 3_600_000;

export interface SessionPolicy {
  idleMs: number;
  absoluteMs: number;
}

export interface SessionDeps {
  store: Store;
  now: () => Date;
  sessionPolicy: SessionPolicy;
}

/** A session as a request sees it: the stored row and the cookie's id (never stored). */
export interface Session extends SessionRecord {
  id: string;
}

const hashId = (id: string) => createHash('sha256').update(id).digest('hex');
const randomToken = () => randomBytes(32).toString('base64url');

/** Constant-time comparison of two tokens of any length. */
export function sameToken(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}

function setCookie(ctx: Koa.Context, value: string, expire = false): void {
  // Secure and SameSite=Strict: never sent over HTTP nor on a request another site starts.
  const attributes = ['Path=/admin', 'HttpOnly', 'Secure', 'SameSite=Strict', ...(expire ? ['Max-Age=0'] : [])];
  ctx.append('Set-Cookie', `${SESSION_COOKIE}=${value}; ${attributes.join('; ')}`);
}

/** Starts a session (a new id on every login, so a planted cookie is worthless) and sets its cookie. */
export async function startSession(deps: SessionDeps, ctx: Koa.Context, userId: string, stage: SessionStage): Promise<Session> {
  const id = randomToken();
  const now = deps.now();
  const record: SessionRecord = {
    idHash: hashId(id),
    userId,
    stage,
    csrfToken: randomToken(),
    pendingTotpSecret: null,
    remoteAddress: peerAddress(ctx) ?? null,
    createdAt: now,
    lastSeenAt: now,
  };
  await deps.store.sessions.create(record);
  setCookie(ctx, id);
  return { ...record, id };
}

/** The request's session when it exists and is neither idle too long nor too old; marks it used. */
export async function loadSession(deps: SessionDeps, ctx: Koa.Context): Promise<Session | undefined> {
  const id = ctx.cookies.get(SESSION_COOKIE);
  if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
  const record = await deps.store.sessions.byIdHash(hashId(id));
  if (!record) return undefined;
  const now = deps.now().getTime();
  const expired = now - record.lastSeenAt.getTime() >= deps.sessionPolicy.idleMs || now - record.createdAt.getTime() >= deps.sessionPolicy.absoluteMs;
  if (expired) {
    await deps.store.sessions.delete(record.idHash);
    setCookie(ctx, '', true);
    return undefined;
  }
  if (!(await deps.store.sessions.touch(record.idHash, deps.now()))) return undefined;
  return { ...record, id };
}

/** Logout: the session is gone from the store, so a copied cookie no longer works either. */
export async function endSession(deps: SessionDeps, ctx: Koa.Context, session: Session): Promise<void> {
  await deps.store.sessions.delete(session.idHash);
  setCookie(ctx, '', true);
}

/** Clears a stale cookie, e.g. on the login page. */
export const clearSessionCookie = (ctx: Koa.Context) => setCookie(ctx, '', true);
