import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { initRoot, installIntermediate, requestIntermediate, signIntermediateRequest } from '../ca/ceremony.js';
import { loadServerConfig } from '../config/server-config.js';
import { exists, PRIVATE_MODE, PUBLIC_MODE, writeFileAtomic } from '../pki/files.js';
import { caLayout, rootLayout } from '../pki/layout.js';
import { normaliseCidr, normaliseDnsSuffix } from '../pki/name-constraints.js';
import { startServer } from '../server/server.js';
import { addUser } from '../admin/users.js';
import { collect, integerIn } from './options.js';
import { info, warn } from './output.js';
import { cliActor, withAuditedStore } from './recorder.js';
import { runUntilSignal } from './serve.js';

export function registerQuickstartCommand(program: Command): void {
  program
    .command('quickstart')
    .description('a demo CA in one command: makes a root, an issuing CA, a config and an EAB credential, then serves')
    .option('--data <DIR>', 'where everything goes', '.wardcert')
    .option('--host <address>', 'address to listen on and to name in URLs', '127.0.0.1')
    .option('--port <n>', 'HTTPS (ACME) port', integerIn(0, 65535), 8443)
    .option('--http-port <n>', 'HTTP port (CRL, OCSP, CA certificates, metrics)', integerIn(0, 65535), 8080)
    .option('--dns-resolver <host:port>', 'DNS server used for validation (default: the system resolver)')
    .option('--http01-port <n>', 'port http-01 validation connects to', integerIn(1, 65535), 80)
    .option('--tlsalpn01-port <n>', 'port tls-alpn-01 validation connects to', integerIn(1, 65535), 443)
    .option('--allow-dns <suffix>', 'DNS suffix the CA issues for (repeatable; default hospital.test)', collect, [])
    .option('--allow-ip <cidr>', 'IP range the CA issues for (repeatable; default 127.0.0.0/8)', collect, [])
    .option('--no-eab', 'let any client register without EAB (weaker; for benchmarks and peer tests)')
    .option('--database <url>', 'PostgreSQL URL instead of SQLite in the data directory')
    .option('--audit-syslog <url>', "send every audit event to the hospital's Audit Record Repository (tls://HOST:6514)")
    .option('--audit-syslog-trust <file>', "PEM CA certificate(s) the repository's TLS certificate must chain to")
    .action(quickstart);
}

interface QuickstartOptions {
  data: string;
  host: string;
  port: number;
  httpPort: number;
  dnsResolver?: string;
  http01Port: number;
  tlsalpn01Port: number;
  allowDns: string[];
  allowIp: string[];
  eab: boolean;
  database?: string;
  auditSyslog?: string;
  auditSyslogTrust?: string;
}

const secret = () => randomBytes(24).toString('base64url');

async function quickstart(opts: QuickstartOptions): Promise<void> {
  const dir = resolve(opts.data);
  if ((opts.auditSyslog === undefined) !== (opts.auditSyslogTrust === undefined)) {
    throw new Error('--audit-syslog and --audit-syslog-trust go together: the repository is only trusted by its CA');
  }
  const allowDns = (opts.allowDns.length ? opts.allowDns : ['hospital.test']).map(normaliseDnsSuffix);
  const allowIp = (opts.allowIp.length ? opts.allowIp : ['127.0.0.0/8']).map(normaliseCidr);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const rootDir = join(dir, 'offline-root');
  const caPassFile = join(dir, 'ca-passphrase');

  if (!(await exists(caLayout(dir).cert))) {
    await makeDemoPki(dir, rootDir, caPassFile, allowDns, allowIp);
  }
  warn(`the demo root key is in ${rootDir}: a real root belongs on an offline machine (see README, "The key ceremony")`);

  const name = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  const configPath = join(dir, 'config.yaml');
  const config = {
    data: '.',
    ...(opts.database ? { database: opts.database } : {}),
    passphraseFile: 'ca-passphrase',
    listen: { host: opts.host, port: opts.port, httpPort: opts.httpPort },
    server: { names: [name] },
    acme: { requireEab: opts.eab, defaultProfile: 'dicom-node', allow: { dns: allowDns, ip: allowIp } },
    validation: {
      ...(opts.dnsResolver ? { resolver: opts.dnsResolver } : {}),
      http01Port: opts.http01Port,
      tlsAlpn01Port: opts.tlsalpn01Port,
    },
    ...(opts.auditSyslog ? { audit: { syslog: { url: opts.auditSyslog, trust: resolve(opts.auditSyslogTrust!) } } } : {}),
  };
  await writeFileAtomic(configPath, `# Written by "wardcert-ca quickstart" on every start.\n${toYaml(config)}`, { mode: PUBLIC_MODE, replace: true });

  const { eab, admin } = await demoCredentials(dir, configPath, opts.eab);
  const server = await startServer(await loadServerConfig(configPath), { allowReachableRootKey: true });
  const summary = {
    directoryUrl: server.directoryUrl,
    dashboardUrl: server.dashboardUrl,
    rootCertPath: caLayout(dir).root,
    crlUrl: `${server.httpBase}/crl/intermediate.crl`,
    ocspUrl: `${server.httpBase}/ocsp`,
    configPath,
    ...(eab ? { eab } : {}),
    ...(admin ? { admin } : {}),
  };
  await saveSummary(dir, summary);
  info(`Wardcert quickstart is running.`);
  info(`  ACME directory: ${summary.directoryUrl}`);
  info(`  dashboard:      ${summary.dashboardUrl}`);
  info(`  trust anchor:   ${summary.rootCertPath}`);
  info(`  CRL, OCSP:      ${summary.crlUrl}  ${summary.ocspUrl}`);
  if (eab) info(`  EAB for a demo device: kid ${eab.kid}  hmacKey ${eab.hmacKey}`);
  else warn('EAB is off (--no-eab): any client that reaches this port can register');
  if (admin) info(`  dashboard admin: ${admin.username} (password and TOTP secret in quickstart.json)`);
  info(`  everything above is in ${join(dir, 'quickstart.json')}`);
  info(`Next: point an ACME client at the directory, e.g.`);
  info(`  REQUESTS_CA_BUNDLE=${summary.rootCertPath} certbot certonly --server ${summary.directoryUrl} --standalone -d gw1.${allowDns[0]}${eab ? ` --eab-kid ${eab.kid} --eab-hmac-key ${eab.hmacKey}` : ''}`);
  await runUntilSignal(server);
}

/** The ceremony, run exactly as the CLI would, with random passphrases kept beside the demo data. */
async function makeDemoPki(dir: string, rootDir: string, caPassFile: string, allowDns: string[], allowIp: string[]): Promise<void> {
  const rootPass = secret();
  const caPass = secret();
  await writeFileAtomic(join(rootDir, 'passphrase'), rootPass + '\n', { mode: PRIVATE_MODE, replace: true });
  await writeFileAtomic(caPassFile, caPass + '\n', { mode: PRIVATE_MODE, replace: true });
  await initRoot({ dir: rootDir, subject: 'CN=Wardcert Quickstart Demo Root,O=Wardcert Demo', algorithm: 'ecdsa-p384', years: 10, passphrase: rootPass, force: true });
  await requestIntermediate({ data: dir, subject: 'CN=Wardcert Quickstart Device CA,O=Wardcert Demo', algorithm: 'ecdsa-p384', passphrase: caPass, force: true });
  const signedPath = join(dir, 'ca', 'intermediate.signed.pem');
  await signIntermediateRequest({
    rootDir,
    rootPassphrase: rootPass,
    csrPem: await readFile(caLayout(dir).csr, 'utf8'),
    out: signedPath,
    days: 365,
    constraints: { permitDns: allowDns, permitIp: allowIp, excludeDns: [], excludeIp: [] },
    force: true,
  });
  await installIntermediate({
    data: dir,
    certPem: await readFile(signedPath, 'utf8'),
    rootPem: await readFile(rootLayout(rootDir).cert, 'utf8'),
    rootSource: rootLayout(rootDir).cert,
    force: true,
  });
  info(`made a demo root and issuing CA in ${dir}`);
}

/** quickstart.json holds the demo's secrets (EAB key, admin password): 0600. */
function saveSummary(dir: string, summary: object): Promise<void> {
  return writeFileAtomic(join(dir, 'quickstart.json'), JSON.stringify(summary, null, 2) + '\n', { mode: PRIVATE_MODE, replace: true });
}

interface DemoAdmin {
  username: string;
  password: string;
  totpSecret: string;
}

/**
 * The demo device's EAB credential (reused while unused, else a fresh one) and, on the first run
 * only, an admin with a password and an enrolled TOTP secret; later runs keep the admin that
 * quickstart.json already names.
 */
async function demoCredentials(dir: string, configPath: string, withEab: boolean): Promise<{ eab?: { kid: string; hmacKey: string }; admin?: DemoAdmin }> {
  const previous = await readFile(join(dir, 'quickstart.json'), 'utf8')
    .then((t) => JSON.parse(t) as { eab?: { kid: string }; admin?: DemoAdmin })
    .catch(() => ({}) as { eab?: { kid: string }; admin?: DemoAdmin });
  // Through the config, so the admin's creation also reaches the ATNA spool when one is set.
  return withAuditedStore({ config: configPath }, async (store, audit) => {
    let eab;
    if (withEab) {
      const existing = previous.eab ? await store.eab.byKid(previous.eab.kid) : undefined;
      let credential = existing && !existing.accountId ? existing : undefined;
      if (!credential) {
        credential = await store.eab.create({ deviceId: 'demo-device', identifiers: [] }, new Date());
        await audit.record({ type: 'eab.created', outcome: 'success', ...cliActor(), subject: { kind: 'eab', id: credential.kid }, details: { device: 'demo-device' } });
      }
      eab = { kid: credential.kid, hmacKey: credential.hmacKey };
    }
    let admin: DemoAdmin | undefined;
    if ((await store.users.count()) === 0) {
      const made = await addUser({ store, audit }, { username: 'admin', role: 'admin' }, cliActor(), { enrolTotp: true });
      admin = { username: made.user.username, password: made.password, totpSecret: made.totpSecret! };
      // Saved at once: the password exists nowhere else, and the server may yet fail to start.
      await saveSummary(dir, { ...previous, admin });
    } else if (previous.admin && (await store.users.byUsername(previous.admin.username))) {
      admin = previous.admin;
    }
    return { ...(eab ? { eab } : {}), ...(admin ? { admin } : {}) };
  });
}
