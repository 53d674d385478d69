import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { atnaSpoolWriter, startAtnaExport } from '../src/audit/atna-export.js';
import { startAtnaSender } from '../src/audit/atna-sender.js';
import { atnaSpool } from '../src/audit/atna-spool.js';
import type { AuditEvent, AuditRecorder } from '../src/audit/event.js';
import { createAuditRecorder } from '../src/audit/recorder.js';
import { loadServerConfig } from '../src/config/server-config.js';
import { caLayout } from '../src/pki/layout.js';
import { issueOwnCertificate } from '../src/server/own-certificate.js';
import { openStore, type Store } from '../src/store/index.js';
import { freePort } from '../../test/helpers/tools.js';
import { startAcmeFixture, type AcmeFixture } from './helpers/acme-fixture.js';
import { makeCaDataDir } from './helpers/ca-dir.js';
import { issueThroughFixture as issue, registerThroughFixture as registered } from './helpers/acme-flow.js';
import { runCa } from './helpers/cli.js';
import { startSyslogListener, type ReceivedAudit, type SyslogListener } from './helpers/syslog-listener.js';
import { startQuickstart } from '../../test/helpers/quickstart.js';

const silent = pino({ level: 'silent' });
let f: AcmeFixture;
let working: AuditRecorder;
let tls: { key: string; cert: string };
let trust: string;
let trustPem: string;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  f = await startAcmeFixture();
  working = f.acme.audit;
  // The repository's certificate comes from the fixture CA; its root is the trust file.
  const own = await issueOwnCertificate({ store: f.store, ca: f.acme.ca, profile: f.acme.profiles.get('ca-tls')!, names: ['127.0.0.1'], httpBase: undefined, certFile: join(f.dir, 'arr.crt.pem') });
  tls = { key: own.key, cert: own.cert };
  trust = caLayout(f.dir).root;
  trustPem = await readFile(trust, 'utf8');
});
afterEach(async () => {
  f.acme.audit = working;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await f?.close();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wardcert-atna-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function listen(o: { port?: number; dropAfter?: number } = {}): Promise<SyslogListener> {
  const l = await startSyslogListener({ ...tls, ...o });
  cleanups.push(() => l.close());
  return l;
}

const detail = (m: ReceivedAudit, type: string) => {
  const d = m.message.AuditMessage.ParticipantObjectIdentification[0].ParticipantObjectDetail.find((x: any) => x['@type'] === type);
  return d && Buffer.from(d['@value'], 'base64').toString('utf8');
};
const eventOf = (m: ReceivedAudit) => detail(m, 'wardcert-event');

/** A store of its own and a recorder that spools into `dir`, as a second process would. */
async function spoolingRecorder(dir: string): Promise<{ store: Store; recorder: AuditRecorder }> {
  const store = await openStore({ dataDir: dir });
  cleanups.push(() => store.close());
  return { store, recorder: createAuditRecorder({ store, onStored: atnaSpoolWriter(dir) }) };
}

const event = (i: number): AuditEvent => ({
  type: 'certificate.renew-now',
  outcome: 'success',
  actor: { kind: 'cli', id: 'radiology-admin' },
  source: 'ws-12.hospital.test',
  details: { count: i },
});

describe('ATNA export', () => {
  it('sends real ACME events as DICOM audit messages in RFC 5424 syslog over RFC 5425 TLS', async () => {
    const listener = await listen();
    const atna = await startAtnaExport(await tempDir(), { url: `tls://127.0.0.1:${listener.port}`, trust }, silent);
    cleanups.push(() => atna.stop());
    f.acme.audit = createAuditRecorder({ store: f.store, onStored: atna.spoolEntries });

    const c = await registered(f);
    const accountId = c.kid!.split('/').pop()!;
    const { chain } = await issue(f, c, [{ type: 'ip', value: '127.0.0.8' }]);
    const serial = new x509.X509Certificate(chain.split('\n\n')[0]!).serialNumber.toLowerCase();
    expect((await c.post(c.directory.newOrder, { identifiers: [{ type: 'dns', value: 'pacs.elsewhere.example' }] })).status).toBe(400);
    await listener.waitFor(5);
    expect(listener.errors).toEqual([]);
    expect(listener.received.map(eventOf)).toEqual(['eab.used', 'account.created', 'order.created', 'certificate.issued', 'order.refused']);

    const issued = listener.received.find((m) => eventOf(m) === 'certificate.issued')!;
    expect(issued).toMatchObject({ pri: 85, msgid: 'IHE+RFC-3881', appName: 'wardcert-ca' });
    const msg = issued.message.AuditMessage;
    expect(msg.EventIdentification).toMatchObject({
      '@EventActionCode': 'C',
      '@EventOutcomeIndicator': '0',
      EventID: { '@csd-code': '110113', '@codeSystemName': 'DCM', '@originalText': 'Security Alert' },
      EventTypeCode: { '@csd-code': '110129', '@codeSystemName': 'DCM', '@originalText': 'Security Configuration' },
    });
    expect(new Date(msg.EventIdentification['@EventDateTime']).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(msg.ActiveParticipant[0]).toMatchObject({ '@UserID': accountId, '@UserIsRequestor': 'true', '@NetworkAccessPointID': '127.0.0.1', '@NetworkAccessPointTypeCode': '2' });
    expect(msg.ActiveParticipant[1]).toMatchObject({ '@UserID': 'wardcert-ca', '@UserIsRequestor': 'false', '@NetworkAccessPointTypeCode': '1' });
    expect(msg.AuditSourceIdentification['@AuditSourceID']).toMatch(/^wardcert-ca@/);
    expect(msg.ParticipantObjectIdentification[0]).toMatchObject({ '@ParticipantObjectID': serial, '@ParticipantObjectTypeCode': '2', '@ParticipantObjectTypeCodeRole': '13' });
    expect(detail(issued, 'profile')).toBe('dicom-node');
    // The message names its audit entry: sequence number (also the syslog sequenceId) and hash.
    const [stored] = await f.store.audit.list({ subject: serial, types: ['certificate.issued'] });
    expect(issued.sequenceId).toBe(stored!.seq);
    expect(detail(issued, 'wardcert-audit-hash')).toBe(stored!.hash);

    const refused = listener.received.find((m) => eventOf(m) === 'order.refused')!;
    expect(refused.pri).toBe(84);
    expect(refused.message.AuditMessage.EventIdentification['@EventOutcomeIndicator']).toBe('4');
  });

  it('spools privately while the repository is down, across a restart, then delivers all in order, each once', async () => {
    const dir = await tempDir();
    const port = await freePort();
    const { recorder } = await spoolingRecorder(dir);
    for (let i = 1; i <= 20; i++) await recorder.record(event(i));
    const spool = atnaSpool(dir);
    expect(await spool.pending()).toHaveLength(20);
    expect((await stat(spool.dir)).mode & 0o777).toBe(0o700);
    for (const name of await spool.pending()) expect((await stat(join(spool.dir, name))).mode & 0o777).toBe(0o600);

    const sender = () => startAtnaSender({ spool, host: '127.0.0.1', port, trust: trustPem, logger: silent, pollMs: 50, settleMs: 300, retryMs: [50, 200] });
    const first = sender();
    await new Promise((r) => setTimeout(r, 400)); // refused, again and again
    await first.stop(); // the server restarts while the repository is still down
    expect(await spool.pending()).toHaveLength(20);

    const listener = await listen({ port });
    const second = sender();
    cleanups.push(() => second.stop());
    await listener.waitFor(20);
    await until(async () => (await spool.pending()).length === 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(listener.errors).toEqual([]);
    expect(listener.received.map((m) => m.sequenceId)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(listener.received.map((m) => detail(m, 'count'))).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)));
  });

  it('re-sends what a dropped connection may have lost: all arrive, first arrivals in order', async () => {
    const dir = await tempDir();
    const { recorder } = await spoolingRecorder(dir);
    for (let i = 1; i <= 25; i++) await recorder.record(event(i));
    const listener = await listen({ dropAfter: 7 });
    const spool = atnaSpool(dir);
    const sender = startAtnaSender({ spool, host: '127.0.0.1', port: listener.port, trust: trustPem, logger: silent, pollMs: 50, settleMs: 300, retryMs: [50, 200] });
    cleanups.push(() => sender.stop());
    const distinct = () => [...new Set(listener.received.map((m) => m.sequenceId))];
    await until(async () => distinct().length === 25 && (await spool.pending()).length === 0);
    expect(listener.errors).toEqual([]);
    expect(listener.connections).toBeGreaterThanOrEqual(2);
    expect(distinct()).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    // Repeats only of what followed the last message the first connection read.
    const repeats = listener.received.length - 25;
    expect(repeats).toBeLessThanOrEqual(25 - 7);
  });

  it('refuses a repository whose certificate the trust file does not vouch for', async () => {
    const listener = await listen();
    const dir = await tempDir();
    const { recorder } = await spoolingRecorder(dir);
    await recorder.record(event(1));
    const other = await tempDir();
    await makeCaDataDir(other, 'CN=Another Hospital CA');
    const logs: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => logs.push(line) });
    const sender = startAtnaSender({ spool: atnaSpool(dir), host: '127.0.0.1', port: listener.port, trust: await readFile(caLayout(other).root, 'utf8'), logger, pollMs: 50, retryMs: [50, 100] });
    cleanups.push(() => sender.stop());
    await until(async () => logs.some((l) => l.includes('atna.unreachable')));
    expect(listener.received).toEqual([]);
    expect(await atnaSpool(dir).pending()).toHaveLength(1);
  });

  it('spools the events of a CLI command run with --config, for the server to send', async () => {
    const dir = await tempDir();
    const config = join(dir, 'ca.yaml');
    await writeFile(config, `data: ${f.dir}\nserver: { names: [127.0.0.1] }\nacme: { allow: { ip: [127.0.0.0/8] } }\naudit: { syslog: { url: "tls://127.0.0.1:6514", trust: ${trust} } }\n`);
    const spool = atnaSpool(f.dir);
    const before = await spool.pending();
    const made = await runCa(['eab', 'create', '--config', config, '--json']);
    expect(made.code, made.stderr).toBe(0);
    const added = (await spool.pending()).filter((n) => !before.includes(n));
    expect(added).toHaveLength(1);
    const frame = (await spool.read(added[0]!))!.toString('utf8');
    expect(frame).toMatch(/^\d+ <85>1 \S+ \S+ wardcert-ca \d+ IHE\+RFC-3881 \[meta sequenceId="\d+"\] \uFEFF<\?xml/);
    expect(frame).toContain(`ParticipantObjectID="${JSON.parse(made.stdout).kid}"`);
    await spool.remove(added[0]!);
  });

  it('reads audit.syslog from the config, naming the key of each error', async () => {
    const dir = await tempDir();
    const write = async (audit: string) => {
      const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
      await writeFile(path, `data: ./ca\nserver: { names: [ca.hospital.test] }\nacme: { allow: { dns: [hospital.test] } }\n${audit}`);
      return path;
    };
    const good = await loadServerConfig(await write('audit: { checkpointEvery: 50, syslog: { url: "tls://arr.hospital.test:6514", trust: arr-ca.pem } }\n'));
    expect(good.audit).toEqual({ checkpointEvery: 50, syslog: { url: 'tls://arr.hospital.test:6514', trust: join(dir, 'arr-ca.pem') } });
    expect((await loadServerConfig(await write(''))).audit).toEqual({ checkpointEvery: 1000 });
    const bad = String(await loadServerConfig(await write('audit: { checkpointEvery: 0, syslog: { url: "udp://arr:514", trust: t.pem, cert: c.pem } }\n')).catch((e) => e));
    for (const key of ['audit.checkpointEvery', 'audit.syslog.url', 'audit.syslog.cert']) expect(bad).toContain(`: ${key}: `);
  });
});

describe('quickstart with --audit-syslog', () => {
  it('sends config, CA key and start events, and at SIGTERM the stop and a signed checkpoint; the trail verifies', async () => {
    const listener = await listen();
    const dir = await tempDir();
    const refused = await runCa(['quickstart', '--data', dir, '--audit-syslog', `tls://127.0.0.1:${listener.port}`]);
    expect(refused.stderr).toContain('--audit-syslog and --audit-syslog-trust go together');
    const qs = await startQuickstart(dir, ['--port', String(await freePort()), '--http-port', String(await freePort()), '--audit-syslog', `tls://127.0.0.1:${listener.port}`, '--audit-syslog-trust', trust]);
    cleanups.push(() => qs.stop());
    await until(async () => listener.received.some((m) => eventOf(m) === 'server.started'));
    await qs.stop();
    await until(async () => listener.received.some((m) => eventOf(m) === 'audit.checkpoint'));
    const events = listener.received.map(eventOf);
    // The demo admin and EAB are made by the quickstart command before the server starts; they are spooled too.
    const loaded = events.indexOf('config.loaded');
    expect(events[loaded + 1]).toBe('ca-key.loaded');
    expect(loaded).toBeGreaterThan(0);
    for (const m of listener.received.slice(0, loaded)) expect(m.message.AuditMessage.ActiveParticipant[0].RoleIDCode['@csd-code']).toBe('cli');
    expect(events.slice(-2)).toEqual(['server.stopped', 'audit.checkpoint']);
    expect(events).toContain('certificate.issued'); // the server's own HTTPS certificate
    const start = listener.received.find((m) => eventOf(m) === 'server.started')!;
    expect(start.message.AuditMessage.EventIdentification.EventTypeCode['@csd-code']).toBe('110120');
    const verified = await runCa(['audit', 'verify', '--data', dir]);
    expect(verified.stdout).toMatch(/^audit trail intact: \d+ entries, 1 signed checkpoint\(s\) \(newest at entry \d+\)\n$/);
    expect(await readdir(join(dir, 'audit-spool'))).toEqual([]);
  });
});

async function until(done: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
