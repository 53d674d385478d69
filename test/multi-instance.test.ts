import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import knex, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench, type BenchResult } from '@wardcert/bench';
import { CA_PASSPHRASE, runCa } from '../ca-server/test/helpers/cli.js';
import { openssl } from '../ca-server/test/helpers/openssl.js';
import { createPostgresSchema, runPostgresTests } from '../ca-server/test/helpers/postgres.js';
import { CA_BIN } from './helpers/quickstart.js';
import { freePort, runWith } from './helpers/tools.js';

/**
 * Two `wardcert-ca serve` processes on one PostgreSQL database and one issuing CA, behind HAProxy
 * with the sample config from examples/ca, under the bench's load; one is SIGKILLed mid-run.
 */
const HAPROXY_SAMPLE = fileURLToPath(new URL('../examples/ca/haproxy.cfg', import.meta.url));
const DEVICES = 16;
const CERTS = 200;

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number>;
}

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  let out = '';
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : 0))));
  return { child, out: () => out, exited };
}

function httpsGet(url: string, ca: string): Promise<number> {
  return new Promise((resolve) => {
    request(url, { ca, signal: AbortSignal.timeout(2000), agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', () => resolve(0))
      .end();
  });
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const enabled = runPostgresTests && runWith('haproxy', 'openssl');

let work: string;
let root: string;
let db: Knex;
let dropSchema: (() => Promise<void>) | undefined;
const procs: Proc[] = [];
const ports = { lbAcme: 0, lbHttp: 0, http01: 0, acme: [0, 0], http: [0, 0] };

beforeAll(async () => {
  if (!enabled) return;
  work = await mkdtemp(join(tmpdir(), 'wardcert-multi-'));
  const offline = join(work, 'offline', 'root');
  const data = [join(work, 'ca1', 'data'), join(work, 'ca2', 'data')] as const;
  for (const args of [
    ['root', 'init', '--dir', offline, '--subject', 'CN=Multi Test Root'],
    ['intermediate', 'request', '--data', data[0], '--subject', 'CN=Multi Test Device CA'],
    ['root', 'sign', '--dir', offline, '--csr', join(data[0], 'ca/intermediate.csr.pem'), '--out', join(work, 'int.pem'), '--permit-ip', '127.0.0.0/8'],
    ['intermediate', 'install', '--data', data[0], '--cert', join(work, 'int.pem'), '--root', join(offline, 'root.crt.pem')],
  ]) {
    const r = await runCa(args);
    expect(r.code, r.stderr).toBe(0);
  }
  root = await readFile(join(data[0], 'ca/root.crt.pem'), 'utf8');

  const schema = await createPostgresSchema();
  dropSchema = schema.drop;
  db = knex({ client: 'pg', connection: schema.url, pool: { min: 0, max: 2 } });
  for (const key of ['lbAcme', 'lbHttp', 'http01'] as const) ports[key] = await freePort();
  for (const i of [0, 1]) [ports.acme[i], ports.http[i]] = [await freePort(), await freePort()];

  await mkdir(join(work, 'etc'));
  await writeFile(join(work, 'etc/ca.pass'), `${CA_PASSPHRASE}\n`, { mode: 0o600 });
  for (const i of [0, 1]) {
    const config = join(work, `etc/ca${i + 1}.yaml`);
    await writeFile(config, [
      `data: ../ca${i + 1}/data`,
      `database: ${JSON.stringify(schema.url)}`,
      'passphraseFile: ca.pass',
      `listen: { host: 127.0.0.1, port: ${ports.acme[i]}, httpPort: ${ports.http[i]} }`,
      // Both hand out the balancer's URLs: a client never learns which instance answered.
      `server: { names: [127.0.0.1], acmeBase: "https://127.0.0.1:${ports.lbAcme}", httpBase: "http://127.0.0.1:${ports.lbHttp}" }`,
      'acme: { allow: { ip: [127.0.0.0/8] } }',
      // A short validation timeout, so validations the killed instance held are retried soon.
      `validation: { http01Port: ${ports.http01}, timeout: 3s }`,
      'log: { level: warn }',
      '',
    ].join('\n'));
  }
  // The first EAB credential makes DATA/secrets.key, which seals every EAB key in the database.
  const first = await runCa(['eab', 'create', '--config', join(work, 'etc/ca1.yaml'), '--device', 'first']);
  expect(first.code, first.stderr).toBe(0);
  // What the second host needs of the first: the CA files (the key encrypted), the data key and
  // the passphrase (ca.pass, shared here).
  await cp(join(data[0], 'ca'), join(data[1], 'ca'), { recursive: true });
  await cp(join(data[0], 'secrets.key'), join(data[1], 'secrets.key'));
  for (const i of [0, 1]) {
    procs.push(start(process.execPath, [CA_BIN, 'serve', '--config', join(work, `etc/ca${i + 1}.yaml`)], { WARDCERT_CA_PASSPHRASE: '' }));
  }
  procs.push(start('haproxy', ['-db', '-f', HAPROXY_SAMPLE], {
    WARDCERT_LB_ACME: `127.0.0.1:${ports.lbAcme}`,
    WARDCERT_LB_HTTP: `127.0.0.1:${ports.lbHttp}`,
    WARDCERT_CA1_ACME: `127.0.0.1:${ports.acme[0]}`,
    WARDCERT_CA2_ACME: `127.0.0.1:${ports.acme[1]}`,
    WARDCERT_CA1_HTTP: `127.0.0.1:${ports.http[0]}`,
    WARDCERT_CA2_HTTP: `127.0.0.1:${ports.http[1]}`,
  }));
  for (const i of [0, 1]) {
    await waitFor(`instance ${i + 1}`, async () => {
      if (procs[i]!.child.exitCode !== null) throw new Error(`instance ${i + 1} exited: ${procs[i]!.out()}`);
      return (await httpsGet(`https://127.0.0.1:${ports.acme[i]}/acme/directory`, root)) === 200;
    });
  }
  await waitFor('the balancer', async () => {
    if (procs[2]!.child.exitCode !== null) throw new Error(`haproxy exited: ${procs[2]!.out()}`);
    return (await httpsGet(`https://127.0.0.1:${ports.lbAcme}/acme/directory`, root)) === 200;
  });
}, 120_000);

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  await db?.destroy();
  await dropSchema?.();
  if (work) await rm(work, { recursive: true, force: true });
});

const issuedSoFar = async () => Number((await db('certificates').whereNot({ profile: 'ca-tls' }).count({ n: '*' }))[0]!.n);

describe.skipIf(!enabled)('two serve instances on one PostgreSQL database behind HAProxy', () => {
  it('loses no certificate and leaves no order stuck when one is killed mid-run', async () => {
    const downloaded: string[] = [];
    const run: Promise<BenchResult> = runBench({
      directories: [`https://127.0.0.1:${ports.lbAcme}/acme/directory`],
      trust: root,
      clients: DEVICES,
      certs: CERTS,
      http01Port: ports.http01,
      http01Listen: '0.0.0.0',
      // One EAB credential per device, minted in the shared database: either instance opens it.
      wardcertConfig: join(work, 'etc/ca1.yaml'),
      storm: 0,
      stormConcurrency: 1,
      pollMs: 100,
      maxSockets: 64,
      serverPids: [],
      onIssued: (chain: string) => downloaded.push(new x509.X509Certificate(chain.slice(0, chain.indexOf('-----END CERTIFICATE-----') + 25)).serialNumber.toLowerCase()),
    });
    let killedAt = -1;
    const killer = (async () => {
      await waitFor('a third of the certificates', async () => (await issuedSoFar()) >= CERTS / 3, 90_000);
      killedAt = await issuedSoFar();
      procs[0]!.child.kill('SIGKILL');
    })();
    const result = await run;
    await killer;
    expect(await procs[0]!.exited).toBe(-1);
    expect(killedAt).toBeLessThan(CERTS);

    // Every device got every certificate it asked for, each downloaded by exactly one client.
    expect(result.errors).toBe(0);
    expect(result.issued).toBe(CERTS);
    expect(new Set(downloaded).size).toBe(CERTS);
    // Every certificate the CA signed for a device is in the store, and each is one of those.
    const stored = (await db('certificates').whereNot({ profile: 'ca-tls' }).select('serial', 'order_id')).map((r) => r.serial as string);
    expect(stored.sort()).toEqual([...downloaded].sort());

    // No order is left where the protocol does not allow it: none processing, valid ones carry
    // exactly the downloaded certificates, open ones (a retried newOrder's twin) await expiry.
    const orders = await db('orders').select('status', 'certificate_serial', 'expires_at');
    const byStatus = Object.fromEntries((await db('orders').select('status').count<{ status: string; n: string }[]>({ n: '*' }).groupBy('status')).map((r) => [r.status, Number(r.n)]));
    console.info(`multi-instance: killed at ${killedAt} certificates; bench ${JSON.stringify(result)}; orders ${JSON.stringify(byStatus)}`);
    expect(orders.filter((o) => o.status === 'processing')).toEqual([]);
    expect(orders.filter((o) => o.status === 'valid').map((o) => o.certificate_serial).sort()).toEqual([...downloaded].sort());
    for (const open of orders.filter((o) => o.status === 'pending' || o.status === 'ready')) {
      expect(open.certificate_serial).toBeNull();
      expect(Number(open.expires_at)).toBeGreaterThan(Date.now());
    }

    // The audit trail both instances appended to is one unbroken chain, and names every certificate
    // handed out once (a signature the killed instance made but never stored may be named too).
    const issuedEvents = (await db('audit_entries').where({ type: 'certificate.issued' }).select('subject_id')).map((r) => r.subject_id as string);
    for (const serial of downloaded) expect(issuedEvents.filter((s) => s === serial)).toHaveLength(1);
    const verified = await runCa(['audit', 'verify', '--config', join(work, 'etc/ca2.yaml')]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(`${verified.stdout}${verified.stderr}`).toContain('audit trail intact');

    // The survivor answers for the CA: CRL and OCSP through the balancer.
    const crl = await fetch(`http://127.0.0.1:${ports.lbHttp}/crl/intermediate.crl`);
    expect(crl.status).toBe(200);
    const crlFile = join(work, 'intermediate.crl');
    await writeFile(crlFile, Buffer.from(await crl.arrayBuffer()));
    expect(openssl(['crl', '-inform', 'DER', '-in', crlFile, '-noout', '-issuer']).output).toContain('Multi Test Device CA');
    const leafFile = join(work, 'leaf.pem');
    const der = (await db('certificates').where({ serial: downloaded[CERTS - 1] }).first('der')).der as Buffer;
    await writeFile(leafFile, new x509.X509Certificate(new Uint8Array(der)).toString('pem'));
    const rootFile = join(work, 'ca1/data/ca/root.crt.pem');
    const status = openssl([
      'ocsp', '-issuer', join(work, 'ca1/data/ca/intermediate.crt.pem'), '-cert', leafFile, '-CAfile', rootFile,
      '-url', `http://127.0.0.1:${ports.lbHttp}/ocsp`, '-timeout', '10',
    ]);
    expect(status.output).toContain(': good');
    expect(status.output).toContain('Response verify OK');
    expect(procs[1]!.child.exitCode).toBeNull();
  }, 150_000);
});
