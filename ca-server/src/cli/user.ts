import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { addUser, disableUser, listUsers } from '../admin/users.js';
import { info, printListing } from './output.js';
import { cliActor, withAuditedStore } from './recorder.js';
import { storeTargetOptions, withStore, type StoreTargetOptions } from './store-target.js';

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('dashboard and admin API logins: admin, operator, viewer, auditor');
  storeTargetOptions(
    user
      .command('add')
      .description('add a user; without --password-file a password is generated and printed once')
      .requiredOption('--username <name>', 'lower-case login name')
      .requiredOption('--role <role>', 'admin, operator, viewer or auditor')
      .option('--password-file <FILE>', 'read the password from the first line of FILE')
      .option('--json', 'print {"user","password"} as JSON'),
  ).action(add);
  storeTargetOptions(user.command('list').description('list the users').option('--json', 'print a JSON array')).action(list);
  storeTargetOptions(user.command('disable').description('disable a user: no more logins').requiredOption('--username <name>', 'login name')).action(disable);
}

interface AddOptions extends StoreTargetOptions {
  username: string;
  role: string;
  passwordFile?: string;
  json?: boolean;
}

async function add(opts: AddOptions): Promise<void> {
  const password = opts.passwordFile
    ? ((await readFile(opts.passwordFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new Error(`cannot read the password file ${opts.passwordFile}: ${err.code ?? err.message}`);
      })).split(/\r?\n/)[0] ?? '')
    : undefined;
  const made = await withAuditedStore(opts, (store, audit) =>
    addUser({ store, audit }, { username: opts.username, role: opts.role, ...(password !== undefined ? { password } : {}) }, cliActor()),
  );
  if (opts.json) {
    info(JSON.stringify({ user: made.user, ...(made.generatedPassword ? { password: made.password } : {}) }));
    return;
  }
  info(`user ${made.user.username} (${made.user.role}) added`);
  if (made.generatedPassword) info(`password: ${made.password}   (shown once)`);
  if (made.user.role === 'admin' || made.user.role === 'operator') info('a TOTP second factor is enrolled at the first login');
}

async function list(opts: StoreTargetOptions & { json?: boolean }): Promise<void> {
  const users = await withStore(opts, (store) => listUsers({ store }));
  printListing(users, opts.json, 'users', (u) => {
    const flags = [u.disabled ? 'disabled' : '', u.locked ? 'locked' : '', u.totpEnrolled ? 'totp' : 'no totp yet'].filter(Boolean).join(', ');
    return `${u.username}  ${u.role}  ${flags}  last login ${u.lastLoginAt?.toISOString() ?? 'never'}`;
  });
}

async function disable(opts: StoreTargetOptions & { username: string }): Promise<void> {
  const user = await withAuditedStore(opts, (store, audit) => disableUser({ store, audit }, opts.username, cliActor()));
  info(`user ${user.username} disabled`);
}
