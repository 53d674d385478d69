import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminApp } from '../src/admin/app.js';
import type { AdminContext } from '../src/admin/context.js';
import { ADMIN_ROUTES, type AdminRoute } from '../src/admin/routes.js';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from '../src/admin/session.js';
import { totpCode } from '../src/admin/totp.js';
import { addUser } from '../src/admin/users.js';
import { createAuditRecorder } from '../src/audit/recorder.js';
import { openStore, ROLES, type Role, type Store } from '../src/store/index.js';

/**
 * The admin app on loopback HTTP with a real store, the real audit recorder and the real users
 * module; the clock is injected so idle and absolute expiry, lockout delays and TOTP steps can be
 * stepped through. Every admin route is tried with every role and with no session.
 */

const MINUTE = 60_000;
let dir: string;
let store: Store;
let server: Server;
let base: string;
let origin: string;
let clock = Date.UTC(2026, 11, 1, 9, 0, 0);
const revokedSerials: string[] = [];
const PASSWORD = 'correct horse battery staple 42';
const totpSecrets = new Map<string, string>();

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: () => Record<string, unknown>;
}

interface Caller {
  cookie?: string | undefined;
  csrf?: string | undefined;
  origin?: string | null;
}

async function call(method: string, path: string, who: Caller = {}, body?: Record<string, unknown>, form = false): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (who.cookie) headers.cookie = who.cookie;
  if (who.csrf) headers['x-csrf-token'] = who.csrf;
  const sendOrigin = who.origin === undefined ? origin : who.origin;
  if (sendOrigin !== null && method !== 'GET') headers.origin = sendOrigin;
  let payload: string | undefined;
  if (body) {
    headers['content-type'] = form ? 'application/x-www-form-urlencoded' : 'application/json';
    payload = form ? new URLSearchParams(body as Record<string, string>).toString() : JSON.stringify(body);
  }
  const r = await fetch(`${base}${path}`, { method, headers, body: payload, redirect: 'manual' });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

const sessionCookie = (r: Reply) => r.headers.getSetCookie().find((c) => c.startsWith('wardcert_admin=') && !c.includes('Max-Age=0'))?.split(';')[0];
const hiddenCsrf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];

/** The real login: the form, then the TOTP step where the user has one. */
async function login(username: string, password = PASSWORD): Promise<Caller & { cookie: string; csrf: string }> {
  const first = await call('POST', '/admin/login', {}, { username, password }, true);
  expect(first.status, first.text).toBe(303);
  let cookie = sessionCookie(first)!;
  if (first.headers.get('location') === '/admin/login/totp') {
    clock += 30_000; // a new TOTP step: a replayed code is refused
    const page = await call('GET', '/admin/login/totp', { cookie });
    const second = await call('POST', '/admin/login/totp', { cookie }, { _csrf: hiddenCsrf(page.text)!, code: totpCode(totpSecrets.get(username)!, new Date(clock)) }, true);
    expect(second.status, second.text).toBe(303);
    cookie = sessionCookie(second)!;
  }
  const session = await call('GET', '/admin/api/session', { cookie });
  expect(session.status).toBe(200);
  return { cookie, csrf: session.json().csrfToken as string };
}

let serialCounter = 0;
async function newCertificate(): Promise<string> {
  const serial = (0x1000 + ++serialCounter).toString(16);
  const notBefore = new Date(clock - MINUTE);
  await store.certificates.insert({
    serial, profile: 'dicom-node', subject: `CN=gw${serial}.hospital.test`, identifiers: [{ type: 'dns', value: `gw${serial}.hospital.test` }],
    notBefore, notAfter: new Date(clock + 72 * 60 * MINUTE), der: Uint8Array.from([0x30, 0]), issuerKeyId: 'ab'.repeat(20), spkiSha256: serial.padStart(64, '0'), deviceId: null,
  });
  return serial;
}

let deviceCounter = 0;
let deviceId: string;

/** A request that succeeds for a role the route allows, and the status it then answers. */
const SAMPLES: Record<string, () => Promise<{ path: string; body?: Record<string, unknown>; ok: number }>> = {
  'POST /logout': async () => ({ path: '/admin/logout', ok: 303 }),
  'GET /': async () => ({ path: '/admin/', ok: 303 }),
  'GET /overview': async () => ({ path: '/admin/overview', ok: 200 }),
  'GET /certificates': async () => ({ path: '/admin/certificates?state=valid&sort=issued&order=desc', ok: 200 }),
  'GET /devices': async () => ({ path: '/admin/devices', ok: 200 }),
  'GET /devices/:id': async () => ({ path: `/admin/devices/${deviceId}`, ok: 200 }),
  'GET /audit': async () => ({ path: '/admin/audit?outcome=success', ok: 200 }),
  'GET /api/session': async () => ({ path: '/admin/api/session', ok: 200 }),
  'GET /api/overview': async () => ({ path: '/admin/api/overview', ok: 200 }),
  'GET /api/certificates': async () => ({ path: '/admin/api/certificates?q=gw', ok: 200 }),
  'GET /api/certificates.csv': async () => ({ path: '/admin/api/certificates.csv', ok: 200 }),
  'GET /api/certificates/:serial': async () => ({ path: `/admin/api/certificates/${await newCertificate()}`, ok: 200 }),
  'POST /api/certificates/:serial/revoke': async () => ({ path: `/admin/api/certificates/${await newCertificate()}/revoke`, body: { reason: 'superseded' }, ok: 200 }),
  'POST /api/renew-now': async () => ({ path: '/admin/api/renew-now', body: { serials: [await newCertificate()] }, ok: 200 }),
  'GET /api/devices': async () => ({ path: '/admin/api/devices', ok: 200 }),
  'GET /api/devices/:id': async () => ({ path: `/admin/api/devices/${deviceId}`, ok: 200 }),
  'POST /api/devices': async () => ({ path: '/admin/api/devices', body: { name: `modality-${++deviceCounter}`, type: 'modality', allowedIdentifiers: [`10.20.1.${deviceCounter}`] }, ok: 201 }),
  'GET /api/audit': async () => ({ path: '/admin/api/audit?type=login.success', ok: 200 }),
};

const keyOf = (r: AdminRoute) => `${r.method} ${r.path}`;
const allows = (r: AdminRoute, role: Role) => r.access === 'signed-in' || (r.access !== 'public' && r.access.includes(role));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wardcert-admin-'));
  store = await openStore({ dataDir: dir });
  const audit = createAuditRecorder({ store, now: () => new Date(clock) });
  const admin: AdminContext = {
    store,
    logger: pino({ level: 'silent' }),
    audit,
    now: () => new Date(clock),
    onRevoked: async (serial) => void revokedSerials.push(serial),
    sessionPolicy: { idleMs: SESSION_IDLE_MS, absoluteMs: SESSION_ABSOLUTE_MS },
    profiles: ['dicom-node', 'hl7-endpoint'],
  };
  const deps = { store, audit, now: () => new Date(clock) };
  const by = { actor: { kind: 'cli' as const, id: 'test' } };
  for (const role of ROLES) {
    const made = await addUser(deps, { username: role, role, password: PASSWORD }, by, { enrolTotp: role === 'admin' || role === 'operator' });
    if (made.totpSecret) totpSecrets.set(role, made.totpSecret);
  }
  server = createServer(createAdminApp(admin).callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  origin = `https://127.0.0.1:${port}`;
  const device = await store.devices.create(
    { name: 'ct-1', type: 'modality', department: 'Radiology', location: null, aeTitles: ['CT1'], hl7Application: null, hl7Facility: null, allowedIdentifiers: ['10.20.0.1'], maintenanceWindow: null },
    new Date(clock),
  );
  deviceId = device.id;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the route table', () => {
  it('has a sample request for every route that needs a session', () => {
    expect(ADMIN_ROUTES.filter((r) => r.access !== 'public').map(keyOf).sort()).toEqual(Object.keys(SAMPLES).sort());
  });

  it('answers 401 without a session, 403 for a role it does not list and success for one it does, route by route', async () => {
    const failures: string[] = [];
    for (const route of ADMIN_ROUTES.filter((r) => r.access !== 'public')) {
      for (const role of [undefined, ...ROLES]) {
        const who = role ? await login(role) : {};
        const sample = await SAMPLES[keyOf(route)]!();
        const r = await call(route.method, sample.path, who, sample.body);
        const expected = role === undefined ? 401 : allows(route, role) ? sample.ok : 403;
        if (r.status !== expected) failures.push(`${keyOf(route)} as ${role ?? 'nobody'}: ${r.status}, expected ${expected}`);
        if (route.path.startsWith('/api/') && (expected === 401 || expected === 403)) {
          expect(r.headers.get('content-type')).toContain('application/problem+json');
          expect(r.json().type).toBe(expected === 401 ? 'urn:wardcert:admin:problem:unauthenticated' : 'urn:wardcert:admin:problem:forbidden');
        }
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);
});

describe('logins', () => {
  it('the login page is a plain form with the autocomplete hints password managers need', async () => {
    const r = await call('GET', '/admin/login');
    expect(r.status).toBe(200);
    expect(r.text).toContain('<html lang="en">');
    expect(r.text).toMatch(/<form[^>]+method="post" action="\/admin\/login"/);
    expect(r.text).toContain('autocomplete="username"');
    expect(r.text).toContain('autocomplete="current-password"');
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('sets a HttpOnly, Secure, SameSite=Strict cookie on /admin, then asks for the TOTP code', async () => {
    clock += 30_000;
    const r = await call('POST', '/admin/login', {}, { username: 'admin', password: PASSWORD }, true);
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/admin/login/totp');
    const cookie = r.headers.getSetCookie().find((c) => c.startsWith('wardcert_admin='))!;
    expect(cookie).toMatch(/; Path=\/admin; HttpOnly; Secure; SameSite=Strict$/);
    const page = await call('GET', '/admin/login/totp', { cookie: sessionCookie(r) });
    expect(page.text).toContain('autocomplete="one-time-code"');
    expect(page.text).toContain('inputmode="numeric"');
    // Half signed in is not signed in.
    expect((await call('GET', '/admin/api/overview', { cookie: sessionCookie(r) })).status).toBe(401);
  });

  it('makes an operator without TOTP enrol first: QR code as SVG, the secret in text, then a code', async () => {
    const deps = { store, audit: createAuditRecorder({ store }), now: () => new Date(clock) };
    await addUser(deps, { username: 'new-operator', role: 'operator', password: PASSWORD }, { actor: { kind: 'cli', id: 'test' } });
    const first = await call('POST', '/admin/login', {}, { username: 'new-operator', password: PASSWORD }, true);
    expect(first.headers.get('location')).toBe('/admin/login/enrol');
    const cookie = sessionCookie(first)!;
    expect((await call('GET', '/admin/api/overview', { cookie })).status).toBe(401);
    const page = await call('GET', '/admin/login/enrol', { cookie });
    expect(page.text).toMatch(/<svg[^>]*viewBox/);
    const secret = /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(page.text)![1]!.replaceAll(' ', '');
    const wrong = await call('POST', '/admin/login/enrol', { cookie }, { _csrf: hiddenCsrf(page.text)!, code: '000000' }, true);
    expect(wrong.status).toBe(400);
    const done = await call('POST', '/admin/login/enrol', { cookie }, { _csrf: hiddenCsrf(page.text)!, code: totpCode(secret, new Date(clock)) }, true);
    expect(done.status).toBe(303);
    const active = sessionCookie(done)!;
    expect(active).not.toBe(cookie);
    expect((await call('GET', '/admin/api/overview', { cookie: active })).status).toBe(200);
    expect((await call('GET', '/admin/api/overview', { cookie })).status).toBe(401);
    const entries = await store.audit.list({ types: ['totp.enrolled'] });
    expect(entries.some((e) => e.actor.name === 'new-operator' && e.outcome === 'success' && e.source === '127.0.0.1')).toBe(true);
  });

  it('lets a signed-in viewer enrol TOTP, which its next login then asks for', async () => {
    const deps = { store, audit: createAuditRecorder({ store }), now: () => new Date(clock) };
    await addUser(deps, { username: 'careful-viewer', role: 'viewer', password: PASSWORD }, { actor: { kind: 'cli', id: 'test' } });
    const who = await login('careful-viewer');
    expect((await call('GET', '/admin/overview', who)).text).toContain('Set up two-factor sign-in');
    const page = await call('GET', '/admin/login/enrol', who);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('Your role signs in with a second factor');
    const secret = /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(page.text)![1]!.replaceAll(' ', '');
    const done = await call('POST', '/admin/login/enrol', { cookie: who.cookie }, { _csrf: who.csrf, code: totpCode(secret, new Date(clock)) }, true);
    expect(done.status).toBe(303);
    expect((await call('GET', '/admin/api/session', who)).status).toBe(401);
    totpSecrets.set('careful-viewer', secret);
    const again = await login('careful-viewer');
    expect((await call('GET', '/admin/overview', again)).text).not.toContain('Set up two-factor sign-in');
  });

  it('locks an account with a growing delay after failed attempts, audits it, and lets it in once the delay passed', async () => {
    const deps = { store, audit: createAuditRecorder({ store }), now: () => new Date(clock) };
    await addUser(deps, { username: 'lock-me', role: 'viewer', password: PASSWORD }, { actor: { kind: 'cli', id: 'test' } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call('POST', '/admin/login', {}, { username: 'lock-me', password: 'wrong password guess' }, true)).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const locked = await call('POST', '/admin/login', {}, { username: 'lock-me', password: PASSWORD }, true);
    expect(locked.status).toBe(429);
    const first = Number(locked.headers.get('retry-after'));
    expect(first).toBeGreaterThan(0);
    expect(sessionCookie(locked)).toBeUndefined();
    clock += first * 1000 + 1000;
    const fifth = await call('POST', '/admin/login', {}, { username: 'lock-me', password: 'wrong again' }, true);
    expect(fifth.status).toBe(429);
    expect(Number(fifth.headers.get('retry-after'))).toBeGreaterThan(first);
    clock += Number(fifth.headers.get('retry-after')) * 1000 + 1000;
    expect((await call('POST', '/admin/login', {}, { username: 'lock-me', password: PASSWORD }, true)).status).toBe(303);
    const failures = await store.audit.list({ actor: 'lock-me' });
    expect(failures.filter((e) => e.type === 'login.failure')).toHaveLength(5);
    expect(failures.some((e) => e.type === 'login.locked' && e.source === '127.0.0.1')).toBe(true);
    expect(failures.some((e) => e.type === 'login.success')).toBe(true);
  });

  it('sends a signed-in user from /admin to their start page, and shows the login form to anyone else', async () => {
    const auditor = await login('auditor');
    const r = await call('GET', '/admin', auditor);
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/admin/audit');
    const anonymous = await call('GET', '/admin/certificates');
    expect(anonymous.status).toBe(401);
    expect(anonymous.text).toContain('action="/admin/login"');
  });

  it('answers an unknown user exactly like a wrong password', async () => {
    const r = await call('POST', '/admin/login', {}, { username: 'nobody-here', password: PASSWORD }, true);
    expect(r.status).toBe(401);
    expect(r.text).toContain('The username, password or code is wrong.');
  });
});

describe('sessions', () => {
  it('end after 15 minutes idle', async () => {
    const who = await login('viewer');
    clock += SESSION_IDLE_MS - 1000;
    expect((await call('GET', '/admin/api/session', who)).status).toBe(200);
    clock += SESSION_IDLE_MS - 1000;
    expect((await call('GET', '/admin/api/session', who)).status).toBe(200);
    clock += SESSION_IDLE_MS;
    expect((await call('GET', '/admin/api/session', who)).status).toBe(401);
  });

  it('end after 8 hours however busy', async () => {
    const who = await login('viewer');
    const started = clock;
    while (clock + 10 * MINUTE < started + SESSION_ABSOLUTE_MS) {
      clock += 10 * MINUTE;
      expect((await call('GET', '/admin/api/session', who)).status).toBe(200);
    }
    clock = started + SESSION_ABSOLUTE_MS;
    expect((await call('GET', '/admin/api/session', who)).status).toBe(401);
  }, 60_000);

  it('logout deletes the session in the store, so the same cookie no longer works', async () => {
    const who = await login('auditor');
    const r = await call('POST', '/admin/logout', who, {});
    expect(r.status).toBe(303);
    expect(r.headers.getSetCookie().some((c) => c.startsWith('wardcert_admin=;') && c.includes('Max-Age=0'))).toBe(true);
    expect((await call('GET', '/admin/api/audit', who)).status).toBe(401);
    const entries = await store.audit.list({ types: ['logout'], actor: 'auditor' });
    expect(entries[0]?.source).toBe('127.0.0.1');
  });

  it('a disabled user is signed out at the next request', async () => {
    const deps = { store, audit: createAuditRecorder({ store }), now: () => new Date(clock) };
    const made = await addUser(deps, { username: 'leaver', role: 'viewer', password: PASSWORD }, { actor: { kind: 'cli', id: 'test' } });
    const who = await login('leaver');
    await store.users.setDisabled(made.user.id, true);
    expect((await call('GET', '/admin/api/session', who)).status).toBe(401);
  });
});

describe('CSRF', () => {
  it('refuses a state change without the token, with a wrong one, from another origin or with none', async () => {
    const who = await login('operator');
    const serial = await newCertificate();
    const revoke = (w: Caller) => call('POST', `/admin/api/certificates/${serial}/revoke`, w, { reason: 1 });
    for (const attempt of [
      { ...who, csrf: undefined },
      { ...who, csrf: 'x'.repeat(43) },
      { ...who, origin: 'https://evil.example' },
      { ...who, origin: `http://${new URL(base).host}` },
      { ...who, origin: null },
    ]) {
      const r = await revoke(attempt);
      expect(r.status).toBe(403);
      expect(r.json().type).toBe('urn:wardcert:admin:problem:csrf');
    }
    expect((await store.certificates.bySerial(serial))!.status).toBe('valid');
    expect((await revoke(who)).status).toBe(200);
  });

  it('checks the hidden form field of form posts', async () => {
    const who = await login('viewer');
    expect((await call('POST', '/admin/logout', { cookie: who.cookie }, { _csrf: 'wrong' }, true)).status).toBe(403);
    expect((await call('POST', '/admin/logout', { cookie: who.cookie }, { _csrf: who.csrf }, true)).status).toBe(303);
  });

  it('refuses a login form posted from another origin', async () => {
    const r = await call('POST', '/admin/login', { origin: 'https://evil.example' }, { username: 'viewer', password: PASSWORD }, true);
    expect(r.status).toBe(403);
  });
});

describe('the admin API', () => {
  it('revokes with an RFC 5280 reason through the revocation path, audits it, and answers 409 the second time', async () => {
    const who = await login('operator');
    const serial = await newCertificate();
    const r = await call('POST', `/admin/api/certificates/${serial}/revoke`, who, { reason: 1 });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ serial, status: 'revoked', state: 'revoked', revocationReason: 'keyCompromise' });
    expect(revokedSerials).toContain(serial);
    expect(await store.certificates.bySerial(serial)).toMatchObject({ status: 'revoked', revocationReason: 1 });
    const again = await call('POST', `/admin/api/certificates/${serial}/revoke`, who, { reason: 1 });
    expect(again.status).toBe(409);
    expect(again.json().type).toBe('urn:wardcert:admin:problem:conflict');
    const entries = await store.audit.list({ types: ['certificate.revoked'], subject: serial });
    expect(entries.map((e) => e.outcome).sort()).toEqual(['failure', 'success']);
    expect(entries.every((e) => e.actor.name === 'operator' && e.source === '127.0.0.1')).toBe(true);
  });

  it('answers 400 for a bad reason or body, 404 for an unknown serial, 413 for a huge body, as problem documents', async () => {
    const who = await login('admin');
    const serial = await newCertificate();
    for (const body of [{ reason: 2 }, { reason: 'certificateHold' }, { reason: 99 }, {}]) {
      const r = await call('POST', `/admin/api/certificates/${serial}/revoke`, who, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json().type).toBe('urn:wardcert:admin:problem:malformed');
    }
    expect((await call('POST', '/admin/api/certificates/ffffffff/revoke', who, { reason: 1 })).status).toBe(404);
    expect((await call('GET', '/admin/api/certificates/not-hex', who)).status).toBe(404);
    expect((await call('GET', '/admin/api/certificates?sort=nonsense', who)).status).toBe(400);
    expect((await call('GET', '/admin/api/certificates?size=100000', who)).status).toBe(400);
    expect((await call('POST', '/admin/api/renew-now', who, { serials: ['zz'] })).status).toBe(400);
    const huge = await call('POST', '/admin/api/renew-now', who, { serials: ['a'.repeat(20_000)] });
    expect(huge.status).toBe(413);
    expect((await call('GET', '/admin/api/nothing-here', who)).status).toBe(404);
    expect((await call('POST', '/admin/api/devices', who, { name: 'ct-1', type: 'modality', allowedIdentifiers: ['10.0.0.1'] })).status).toBe(409);
    expect((await call('POST', '/admin/api/devices', who, { name: 'bad name!', type: 'modality', allowedIdentifiers: ['10.0.0.1'] })).status).toBe(400);
    expect((await store.certificates.bySerial(serial))!.status).toBe('valid');
  });

  it('renew-now pulls the selected certificates\' ARI windows into the past', async () => {
    const who = await login('operator');
    const [a, b] = [await newCertificate(), await newCertificate()];
    const r = await call('POST', '/admin/api/renew-now', who, { serials: [a] });
    expect(r.json()).toEqual({ renewing: 1 });
    expect((await store.certificates.bySerial(a))!.renewBy).toEqual(new Date(clock));
    expect((await store.certificates.bySerial(b))!.renewBy).toBeNull();
  });

  it('creates a device with its EAB credential, shown in that answer only', async () => {
    const who = await login('operator');
    const r = await call('POST', '/admin/api/devices', who, { name: 'us-cart-3', type: 'modality', department: 'Cardiology', allowedIdentifiers: ['us3.cardiology.hospital.test'] });
    expect(r.status).toBe(201);
    const created = r.json() as { device: { id: string }; eab: { kid: string; hmacKey: string } };
    expect(created.eab.hmacKey.length).toBeGreaterThan(20);
    const shown = await call('GET', `/admin/api/devices/${created.device.id}`, who);
    expect(shown.text).not.toContain(created.eab.hmacKey);
  });

  it('exports the filtered set as CSV with formula cells defused', async () => {
    const who = await login('viewer');
    await store.certificates.insert({
      serial: 'e0e0', profile: 'dicom-node', subject: 'CN==cmd|calc', identifiers: [{ type: 'dns', value: '=cmd.hospital.test' }],
      notBefore: new Date(clock - MINUTE), notAfter: new Date(clock + 10 * MINUTE), der: Uint8Array.from([0x30, 0]), issuerKeyId: 'ab'.repeat(20), spkiSha256: 'e0'.repeat(32),
    });
    const r = await call('GET', '/admin/api/certificates.csv?q=e0e0', who);
    expect(r.headers.get('content-type')).toContain('text/csv');
    expect(r.headers.get('content-disposition')).toContain('attachment');
    const lines = r.text.trim().split('\r\n');
    expect(lines[0]).toBe('serial,state,profile,subject,identifiers,device,notBefore,notAfter,issuedAt,revokedAt,revocationReason');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(",CN==cmd|calc,'=cmd.hospital.test,");
    expect(lines[1]).toContain('expiring-24h');
  });

  it('lists the audit trail for an auditor with filters', async () => {
    const who = await login('auditor');
    const r = await call('GET', '/admin/api/audit?type=login.failure&outcome=failure', who);
    const items = r.json().items as { type: string; outcome: string }[];
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((i) => i.type === 'login.failure' && i.outcome === 'failure')).toBe(true);
    expect((await call('GET', '/admin/api/audit?from=not-a-date', who)).status).toBe(400);
    const page = await call('GET', '/admin/audit?type=login.failure', who);
    expect(page.text).toContain('Login failed');
  });
});
