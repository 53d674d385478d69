import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lockoutDelayMs } from '../src/admin/lockout.js';
import { generatePassword, hashPassword, passwordProblem, verifyPassword } from '../src/admin/passwords.js';
import { generateTotpSecret, matchTotpStep, totpCode, totpStep, totpUri } from '../src/admin/totp.js';
import { addUser, changeRole, checkPassword, checkTotp, confirmTotpEnrolment, disableUser, listUsers, startTotpEnrolment } from '../src/admin/users.js';
import { InputError, type Acting } from '../src/policy/service.js';
import type { AuditEvent } from '../src/audit/event.js';
import { openStore, UsernameTakenError, type Store } from '../src/store/index.js';
import { freePort } from '../../test/helpers/tools.js';
import { startQuickstart, type RunningQuickstart } from '../../test/helpers/quickstart.js';
import { runCa } from './helpers/cli.js';
import { storeBackends, type StoreLocation } from './helpers/store-backends.js';

const ADMIN: Acting = { actor: { kind: 'cli', id: 'root' }, source: 'ca-host' };
/** RFC 6238 appendix B's SHA-1 key, "12345678901234567890", in base32. */
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('passwords', () => {
  it('needs 12 characters, refuses common ones (also padded with digits and symbols) and near-constant ones', () => {
    expect(passwordProblem('short-pass1')).toMatch(/at least 12/);
    expect(passwordProblem('qwerty123456')).toMatch(/common passwords/);
    expect(passwordProblem('QAZWSXEDCRFV')).toMatch(/common passwords/); // case does not help
    expect(passwordProblem('Password1234!')).toMatch(/common passwords/); // "password" padded
    expect(passwordProblem('!!2024Sunshine2024!!')).toMatch(/common passwords/);
    expect(passwordProblem('aaaaaaaaaaaaaaaa')).toMatch(/three different characters/);
    expect(passwordProblem('x'.repeat(257))).toMatch(/at most 256/);
    expect(passwordProblem('ward 7 night shift ultrasound')).toBeNull();
    for (let i = 0; i < 50; i++) expect(passwordProblem(generatePassword())).toBeNull();
  });

  it('hashes with Argon2id and verifies in constant time; an unknown user costs a verification too', async () => {
    const phc = await hashPassword('ward 7 night shift ultrasound');
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(phc, 'ward 7 night shift ultrasound')).toBe(true);
    expect(await verifyPassword(phc, 'ward 7 night shift ultrasounD')).toBe(false);
    expect(await verifyPassword(undefined, 'ward 7 night shift ultrasound')).toBe(false);
    expect(await verifyPassword('not a hash', 'anything at all')).toBe(false);
    await expect(hashPassword('password')).rejects.toThrow(/at least 12/);
  });
});

describe('TOTP', () => {
  it('gives the RFC 6238 SHA-1 test vectors (6 digits)', () => {
    expect(totpCode(RFC_SECRET, new Date(59_000))).toBe('287082');
    expect(totpCode(RFC_SECRET, new Date(1_111_111_109_000))).toBe('081804');
    expect(totpCode(RFC_SECRET, new Date(2_000_000_000_000))).toBe('279037');
  });

  it('accepts one step of skew either side and no more, and names the step matched', () => {
    const now = new Date(1_800_000_000_000);
    const at = (steps: number) => totpCode(RFC_SECRET, new Date(now.getTime() + steps * 30_000));
    expect(matchTotpStep(RFC_SECRET, at(0), now)).toBe(totpStep(now));
    expect(matchTotpStep(RFC_SECRET, at(-1), now)).toBe(totpStep(now) - 1);
    expect(matchTotpStep(RFC_SECRET, at(1), now)).toBe(totpStep(now) + 1);
    expect(matchTotpStep(RFC_SECRET, at(-2), now)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, at(2), now)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, '12345', now)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, '12345a', now)).toBeNull();
  });

  it('makes 160-bit secrets and the otpauth URI authenticator apps read', () => {
    const secret = generateTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(totpUri('alice', secret));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Wardcert:alice');
    expect(Object.fromEntries(uri.searchParams)).toEqual({ issuer: 'Wardcert', secret, algorithm: 'SHA1', digits: '6', period: '30' });
  });
});

describe('lockout policy', () => {
  it('lets three failures pass, then doubles the delay from 15 s to at most 15 minutes', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(lockoutDelayMs)).toEqual([0, 0, 0, 15_000, 30_000, 60_000, 120_000]);
    expect(lockoutDelayMs(10)).toBe(900_000);
    expect(lockoutDelayMs(1000)).toBe(900_000);
  });
});

for (const backend of storeBackends('wardcert-users')) {
  describe.skipIf(!backend.enabled)(`users on ${backend.name}`, () => {
    let location: StoreLocation;
    let store: Store;
    let events: AuditEvent[];
    let now: Date;
    const deps = () => ({ store, audit: { record: async (e: AuditEvent) => void events.push(e) }, now: () => now });
    const later = (ms: number) => (now = new Date(now.getTime() + ms));

    beforeEach(async () => {
      location = await backend.location();
      store = await openStore(location.options);
      events = [];
      now = new Date('2027-01-04T08:00:00Z');
    });
    afterEach(async () => {
      await store.close();
      await location.dispose();
    });

    it('adds users with a generated or given password, refuses duplicates and weak passwords, and records user.created', async () => {
      const generated = await addUser(deps(), { username: 'alice', role: 'admin' }, ADMIN);
      expect(generated.generatedPassword).toBe(true);
      expect(passwordProblem(generated.password)).toBeNull();
      const given = await addUser(deps(), { username: 'bob', role: 'viewer', password: 'ward 7 night shift ultrasound' }, ADMIN);
      expect(given).toMatchObject({ generatedPassword: false, user: { username: 'bob', role: 'viewer', disabled: false, totpEnrolled: false } });
      await expect(addUser(deps(), { username: 'alice', role: 'viewer' }, ADMIN)).rejects.toThrow(UsernameTakenError);
      await expect(addUser(deps(), { username: 'carol', role: 'viewer', password: 'password1234' }, ADMIN)).rejects.toThrow(/^password: .*common/);
      await expect(addUser(deps(), { username: 'Carol Smith', role: 'viewer' }, ADMIN)).rejects.toThrow(InputError);
      await expect(addUser(deps(), { username: 'carol', role: 'root' }, ADMIN)).rejects.toThrow(/^role:/);
      expect(events.map((e) => [e.type, e.details?.username])).toEqual([['user.created', 'alice'], ['user.created', 'bob']]);
      expect(JSON.stringify(events)).not.toContain(generated.password);
      const stored = await store.knex('users').where({ username: 'alice' }).first();
      expect(stored.password_hash).toMatch(/^\$argon2id\$/);
      expect((await listUsers(deps())).map((u) => u.username)).toEqual(['alice', 'bob']);
      expect(JSON.stringify(await listUsers(deps()))).not.toContain('argon2');
    });

    it('keeps the TOTP secret sealed at rest', async () => {
      const made = await addUser(deps(), { username: 'alice', role: 'admin' }, ADMIN, { enrolTotp: true });
      const row = await store.knex('users').where({ username: 'alice' }).first();
      expect(row.totp_secret).toMatch(/^v1\./);
      expect(row.totp_secret).not.toContain(made.totpSecret!);
      expect((await store.users.byUsername('alice'))!.totpSecret).toBe(made.totpSecret);
    });

    it('logs in with password and TOTP; a code is never accepted twice', async () => {
      const { password, totpSecret } = await addUser(deps(), { username: 'alice', role: 'operator' }, ADMIN, { enrolTotp: true });
      const first = await checkPassword(deps(), 'alice', password);
      expect(first).toMatchObject({ ok: true, next: 'totp' });
      const userId = (first as { user: { id: string } }).user.id;
      const code = totpCode(totpSecret!, now);
      expect(await checkTotp(deps(), userId, code)).toMatchObject({ ok: true, next: 'done' });
      expect(await checkTotp(deps(), userId, code)).toMatchObject({ ok: false, reason: 'invalid' }); // replay
      later(10_000); // same step still: still a replay
      expect(await checkTotp(deps(), userId, code)).toMatchObject({ ok: false });
      later(30_000);
      expect(await checkTotp(deps(), userId, totpCode(totpSecret!, now))).toMatchObject({ ok: true });
      // A code of an earlier step than the last accepted one is refused even within the skew.
      expect(await checkTotp(deps(), userId, totpCode(totpSecret!, new Date(now.getTime() - 30_000)))).toMatchObject({ ok: false });
      expect((await store.users.byId(userId))!.lastLoginAt).toEqual(now);
    });

    it('asks admins and operators to enrol TOTP at first login, and lets an unenrolled viewer in with the password', async () => {
      const op = await addUser(deps(), { username: 'olga', role: 'operator' }, ADMIN);
      const viewer = await addUser(deps(), { username: 'vic', role: 'viewer' }, ADMIN);
      expect(await checkPassword(deps(), 'vic', viewer.password)).toMatchObject({ ok: true, next: 'done' });
      const step = await checkPassword(deps(), 'olga', op.password);
      expect(step).toMatchObject({ ok: true, next: 'enrol-totp' });
      const userId = (step as { user: { id: string } }).user.id;
      const { secret, uri } = startTotpEnrolment('olga');
      expect(uri).toContain(`secret=${secret}`);
      expect(await confirmTotpEnrolment(deps(), userId, secret, '000000', ADMIN)).toMatchObject({ ok: false });
      expect((await store.users.byId(userId))!.totpEnrolledAt).toBeNull();
      const code = totpCode(secret, now);
      expect(await confirmTotpEnrolment(deps(), userId, secret, code, ADMIN)).toMatchObject({ ok: true });
      expect(events.at(-1)).toMatchObject({ type: 'totp.enrolled', subject: { kind: 'user', id: userId } });
      expect(await checkPassword(deps(), 'olga', op.password)).toMatchObject({ ok: true, next: 'totp' });
      expect(await checkTotp(deps(), userId, code)).toMatchObject({ ok: false }); // the enrolment code is used up
    });

    it('locks with a growing delay after failed attempts, refuses even the right password meanwhile, and forgets after a login', async () => {
      const { password } = await addUser(deps(), { username: 'vic', role: 'viewer' }, ADMIN);
      for (let i = 1; i <= 3; i++) expect(await checkPassword(deps(), 'vic', `wrong guess number ${i}`)).toEqual({ ok: false, reason: 'invalid', retryAfterMs: 0 });
      expect(await checkPassword(deps(), 'vic', 'wrong guess number 4')).toEqual({ ok: false, reason: 'invalid', retryAfterMs: 15_000 });
      later(5_000);
      expect(await checkPassword(deps(), 'vic', password)).toEqual({ ok: false, reason: 'locked', retryAfterMs: 10_000 });
      later(10_000);
      expect(await checkPassword(deps(), 'vic', 'wrong guess number 5')).toMatchObject({ retryAfterMs: 30_000 });
      later(30_000);
      expect(await checkPassword(deps(), 'vic', 'wrong guess number 6')).toMatchObject({ retryAfterMs: 60_000 });
      expect((await listUsers(deps()))[0]).toMatchObject({ locked: true });
      later(60_000);
      expect(await checkPassword(deps(), 'vic', password)).toMatchObject({ ok: true });
      expect(await store.users.byUsername('vic')).toMatchObject({ failedLogins: 0, lockedUntil: null });
    });

    it('counts wrong TOTP codes towards the same lockout', async () => {
      const { totpSecret } = await addUser(deps(), { username: 'alice', role: 'admin' }, ADMIN, { enrolTotp: true });
      const id = (await store.users.byUsername('alice'))!.id;
      for (let i = 0; i < 4; i++) await checkTotp(deps(), id, '000000');
      expect(await checkTotp(deps(), id, totpCode(totpSecret!, now))).toMatchObject({ ok: false, reason: 'locked' });
    });

    it('answers an unknown user like a wrong password, and a disabled one too; records disable and role changes', async () => {
      const { password } = await addUser(deps(), { username: 'bob', role: 'viewer' }, ADMIN);
      expect(await checkPassword(deps(), 'nobody', password)).toEqual({ ok: false, reason: 'invalid', retryAfterMs: 0 });
      expect(await checkPassword(deps(), 'NOT A NAME', password)).toEqual({ ok: false, reason: 'invalid', retryAfterMs: 0 });
      await changeRole(deps(), 'bob', 'auditor', ADMIN);
      expect((await store.users.byUsername('bob'))!.role).toBe('auditor');
      await expect(changeRole(deps(), 'bob', 'god', ADMIN)).rejects.toThrow(/^role:/);
      await disableUser(deps(), 'bob', ADMIN);
      expect(await checkPassword(deps(), 'bob', password)).toEqual({ ok: false, reason: 'invalid', retryAfterMs: 0 });
      await expect(disableUser(deps(), 'nobody', ADMIN)).rejects.toThrow(/no user "nobody"/);
      expect(events.slice(1).map((e) => [e.type, e.details])).toEqual([
        ['user.role-changed', { username: 'bob', from: 'viewer', to: 'auditor' }],
        ['user.disabled', { username: 'bob' }],
      ]);
    });
  });
}

describe('wardcert-ca user', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wardcert-user-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('adds with a generated password printed once, or one from a file; lists; disables', { timeout: 240_000 }, async () => {
    const add = await runCa(['user', 'add', '--data', dir, '--username', 'alice', '--role', 'admin']);
    expect(add.code, add.stderr).toBe(0);
    const password = /password: (\S+)/.exec(add.stdout)![1]!;
    expect(passwordProblem(password)).toBeNull();
    await writeFile(join(dir, 'pw'), 'ward 7 night shift ultrasound\n', { mode: 0o600 });
    const fromFile = await runCa(['user', 'add', '--data', dir, '--username', 'bob', '--role', 'viewer', '--password-file', join(dir, 'pw'), '--json']);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ user: { username: 'bob', role: 'viewer' } });
    expect(fromFile.stdout).not.toContain('password');

    const list = await runCa(['user', 'list', '--data', dir, '--json']);
    const users = JSON.parse(list.stdout);
    expect(users.map((u: any) => [u.username, u.role, u.disabled])).toEqual([['alice', 'admin', false], ['bob', 'viewer', false]]);
    expect(list.stdout).not.toContain(password);
    expect(list.stdout).not.toContain('argon2');

    expect((await runCa(['user', 'disable', '--data', dir, '--username', 'bob'])).stdout).toContain('user bob disabled');
    expect(JSON.parse((await runCa(['user', 'list', '--data', dir, '--json'])).stdout)[1].disabled).toBe(true);
    const store = await openStore({ dataDir: dir });
    try {
      expect(await checkPassword({ store }, 'alice', password)).toMatchObject({ ok: true, next: 'enrol-totp' });
      const trail = (await store.audit.list({ types: ['user.created', 'user.disabled'] })).sort((a, b) => a.seq - b.seq);
      expect(trail.map((e) => [e.type, e.actor.kind, e.details?.username])).toEqual([['user.created', 'cli', 'alice'], ['user.created', 'cli', 'bob'], ['user.disabled', 'cli', 'bob']]);
    } finally {
      await store.close();
    }
  });

  it('refuses weak passwords, unknown roles and unknown users with one clear line', { timeout: 240_000 }, async () => {
    await writeFile(join(dir, 'weak'), 'password1234\n');
    const cases: [string[], RegExp][] = [
      [['add', '--username', 'carol', '--role', 'viewer', '--password-file', join(dir, 'weak')], /common passwords/],
      [['add', '--username', 'carol', '--role', 'viewer', '--password-file', join(dir, 'missing')], /cannot read the password file .*ENOENT/],
      [['add', '--username', 'carol', '--role', 'superuser'], /role:/],
      [['add', '--username', 'alice', '--role', 'viewer'], /already exists/],
      [['disable', '--username', 'nobody'], /no user "nobody"/],
    ];
    for (const [args, message] of cases) {
      const r = await runCa(['user', ...args, '--data', dir]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('quickstart', () => {
  it('makes one admin on first run and writes its username, password and TOTP secret into quickstart.json; later runs keep it', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wardcert-qs-admin-'));
    const args = ['--host', '127.0.0.1', '--port', String(await freePort()), '--http-port', String(await freePort())];
    let qs: RunningQuickstart | undefined;
    try {
      qs = await startQuickstart(dir, args);
      const info = qs.info as typeof qs.info & { admin: { username: string; password: string; totpSecret: string } };
      expect(Object.keys(info).sort()).toEqual(['admin', 'configPath', 'crlUrl', 'dashboardUrl', 'directoryUrl', 'eab', 'ocspUrl', 'rootCertPath']);
      expect(info.admin.username).toBe('admin');
      expect(info.admin.totpSecret).toMatch(/^[A-Z2-7]{32}$/);
      await qs.stop();
      qs = await startQuickstart(dir, args);
      expect((qs.info as typeof info).admin).toEqual(info.admin);
      await qs.stop();
      qs = undefined;
      const store = await openStore({ dataDir: dir });
      try {
        expect(await store.users.count()).toBe(1);
        expect((await store.audit.list({ types: ['user.created'] })).map((e) => e.details?.username)).toEqual(['admin']);
        const step = await checkPassword({ store }, 'admin', info.admin.password);
        expect(step).toMatchObject({ ok: true, next: 'totp' });
        expect(await checkTotp({ store }, (step as { user: { id: string } }).user.id, totpCode(info.admin.totpSecret, new Date()))).toMatchObject({ ok: true });
      } finally {
        await store.close();
      }
    } finally {
      await qs?.stop(); // also when an assertion failed: a quickstart left running outlives the test
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the admin it made when the first start fails (its port taken), and names it on the next run', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wardcert-qs-admin-'));
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const takenPort = String((taken.address() as AddressInfo).port);
    let qs: RunningQuickstart | undefined;
    try {
      const failed = await runCa(['quickstart', '--data', dir, '--host', '127.0.0.1', '--port', takenPort, '--http-port', String(await freePort())]);
      expect(failed.code).not.toBe(0);
      expect(failed.stderr).toMatch(/EADDRINUSE/);
      const saved = JSON.parse(await readFile(join(dir, 'quickstart.json'), 'utf8')) as { admin: { username: string; password: string } };
      expect(saved.admin.username).toBe('admin');
      qs = await startQuickstart(dir, ['--host', '127.0.0.1', '--port', String(await freePort()), '--http-port', String(await freePort())]);
      expect((qs.info as typeof qs.info & typeof saved).admin).toEqual(saved.admin);
      await qs.stop();
      const store = await openStore({ dataDir: dir });
      try {
        expect(await checkPassword({ store }, 'admin', saved.admin.password)).toMatchObject({ ok: true });
      } finally {
        await store.close();
      }
    } finally {
      await qs?.stop();
      taken.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
