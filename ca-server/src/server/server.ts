import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import pino, { type Logger } from 'pino';
import { Admission } from '../acme/admission.js';
import { createAcmeApp } from '../acme/app.js';
import { ADMIN_PREFIX, createAdminApp, isAdminPath } from '../admin/app.js';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from '../admin/session.js';
import { localSource, systemActor } from '../audit/actors.js';
import { startAtnaExport } from '../audit/atna-export.js';
import type { AuditEvent } from '../audit/event.js';
import { createAuditRecorder } from '../audit/recorder.js';
import type { AcmeContext } from '../acme/context.js';
import { acmeUrls } from '../acme/urls.js';
import type { ServerConfig } from '../config/server-config.js';
import { loadIssuingCa } from '../pki/issuing-ca.js';
import { BUNDLED_PROFILES_DIR, loadProfiles } from '../pki/profiles.js';
import { createCrlPublisher, createHttpSideApp } from '../revocation/index.js';
import { openStore } from '../store/index.js';
import { startValidator } from '../validation/worker.js';
import { createResolver } from '../validation/index.js';
import { createMetrics, metricHooks, metricsHandler, registerStoreGauges } from './metrics.js';
import { metricsBearerToken } from './metrics-token.js';
import { issueOwnCertificate, scheduleOwnRenewal } from './own-certificate.js';
import { serverPassphrase } from './passphrase.js';
import { allowListBeyondConstraints } from './policy-warnings.js';
import { startSweeper } from './sweeper.js';
import { BSI_TLS } from '@wardcert/common';


export interface StartOptions {
  /** Quickstart only: its demo root sits beside the data. Logged loudly. */
  allowReachableRootKey?: boolean;
  logger?: Logger;
}

export interface RunningServer {
  directoryUrl: string;
  /** The admin dashboard, on the same HTTPS listener. */
  dashboardUrl: string;
  httpBase: string;
  acmePort: number;
  httpPort: number;
  logger: Logger;
  close(): Promise<void>;
}

const SWEEP_MS = 60_000;

/** Starts the CA: ACME over HTTPS, revocation and CA certificates over HTTP, the validator and the sweepers. */
export async function startServer(config: ServerConfig, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? pino({ level: config.log.level, base: { service: 'wardcert-ca' } });
  if (opts.allowReachableRootKey) {
    logger.warn('QUICKSTART: the demo root key is on this machine. A real root belongs offline; never use this setup for patient systems.');
  }
  // The CA (and its search for a reachable root key) comes before the store is opened.
  const ca = await loadIssuingCa({
    dataDir: config.data,
    passphrase: await serverPassphrase(config.passphraseFile),
    searchDirs: [dirname(config.configPath)],
    ...(opts.allowReachableRootKey ? { allowReachableRootKey: true } : {}),
  });
  const store = await openStore({ dataDir: config.data, ...(config.database ? { url: config.database } : {}) });
  const closers: (() => Promise<void> | void)[] = [() => store.close()];
  try {
    // Stopped after the stop entries below are spooled (closers run in reverse), so they go out too.
    const atna = config.audit.syslog ? await startAtnaExport(config.data, config.audit.syslog, logger) : undefined;
    if (atna) closers.push(() => atna.stop());
    const audit = createAuditRecorder({ store, checkpoints: { ca, every: config.audit.checkpointEvery }, ...(atna ? { onStored: atna.spoolEntries } : {}) });
    const system = (e: Omit<AuditEvent, 'actor' | 'source' | 'outcome'>) => audit.record({ ...e, outcome: 'success', actor: systemActor(), source: localSource() });
    // Runs after the listeners closed: the last entries are the stop and a checkpoint over everything.
    closers.push(() =>
      system({ type: 'server.stopped', subject: { kind: 'ca', id: ca.keyId } })
        .then(() => audit.checkpointNow())
        .catch((err: unknown) => logger.error({ err, event: 'audit.stopFailed' }, 'the audit trail could not record the stop')),
    );
    await system({
      type: 'config.loaded',
      subject: { kind: 'config', id: config.configPath },
      details: {
        database: store.dialect,
        requireEab: config.acme.requireEab,
        allowDns: config.acme.allow.dns,
        allowIp: config.acme.allow.ip,
        defaultProfile: config.acme.defaultProfile,
        checkpointEvery: config.audit.checkpointEvery,
        auditSyslog: config.audit.syslog?.url ?? null,
      },
    });
    logger.info({ event: 'ca.loaded', subject: ca.cert.subject, notAfter: ca.cert.notAfter.toISOString() }, 'issuing CA key loaded');
    await system({ type: 'ca-key.loaded', subject: { kind: 'ca', id: ca.keyId }, details: { subject: ca.cert.subject, notAfter: ca.cert.notAfter.toISOString() } });
    const profiles = await loadProfiles(config.acme.profiles ?? BUNDLED_PROFILES_DIR);
    for (const needed of [config.acme.defaultProfile, 'ca-tls']) {
      if (!profiles.has(needed)) throw new Error(`profile "${needed}" is not among ${[...profiles.keys()].join(', ')}`);
    }
    if (!config.acme.requireEab) logger.warn({ event: 'policy.eabDisabled' }, 'EAB is OFF: any client that reaches this server can register (weaker, explicit opt-in)');
    for (const w of allowListBeyondConstraints(config.acme.allow.dns, config.acme.allow.ip, ca.constraints)) logger.warn({ event: 'policy.beyondConstraints' }, w);

    const https = createHttpsServer({ ...BSI_TLS, handshakeTimeout: config.admission.handshakeTimeout });
    // A bound on sockets is a bound on memory when every device of a site reconnects at once, and a
    // socket that is slow to say what it wants (a device on a LAN sends a request in milliseconds;
    // bodies are small and bounded) gives its slot back instead of holding it for Node's minutes.
    https.maxConnections = config.admission.maxConnections;
    https.headersTimeout = config.admission.handshakeTimeout;
    https.requestTimeout = 3 * config.admission.handshakeTimeout;
    const http = createHttpServer();
    await Promise.all([listen(https, config.listen.port, config.listen.host), listen(http, config.listen.httpPort, config.listen.host)]);
    closers.push(() => closeServer(https), () => closeServer(http));
    const acmePort = (https.address() as AddressInfo).port;
    const httpPort = (http.address() as AddressInfo).port;
    const publicName = config.server.names[0]!;
    const hostPart = publicName.includes(':') ? `[${publicName}]` : publicName;
    const httpBase = config.server.httpBase ?? `http://${hostPart}:${httpPort}`;
    const urls = acmeUrls(config.server.acmeBase ?? `https://${hostPart}:${acmePort}`);

    const metrics = createMetrics();
    const hooks = metricHooks(metrics);
    registerStoreGauges(metrics, store, { agentSilentAfterMs: config.metrics.agentSilentAfter });
    const own = async () => {
      const c = await issueOwnCertificate({ store, ca, profile: profiles.get('ca-tls')!, names: config.server.names, httpBase, certFile: join(config.data, 'server', 'tls.crt.pem') });
      hooks.counters.issued('ca-tls');
      await system({ type: 'certificate.issued', subject: { kind: 'certificate', id: c.serial }, details: { profile: 'ca-tls', identifiers: config.server.names, purpose: 'the CA server own HTTPS certificate' } });
      return c;
    };
    const first = await own();
    https.setSecureContext({ ...BSI_TLS, key: first.key, cert: first.cert });
    closers.push(scheduleOwnRenewal(first, own, (c) => https.setSecureContext({ ...BSI_TLS, key: c.key, cert: c.cert }), logger));

    const crl = createCrlPublisher({ store, ca, logger, audit });
    await crl.start();
    closers.push(() => crl.stop());
    const admission = new Admission({
      maxValidationBacklog: config.admission.maxValidationBacklog,
      maxFinalizing: config.admission.maxFinalizing,
      maxInFlight: config.admission.maxInFlight,
      retryAfterMs: config.admission.retryAfter,
    });
    const validator = startValidator({
      store,
      logger,
      audit,
      validation: {
        resolver: createResolver(config.validation.resolver),
        http01Port: config.validation.http01Port,
        tlsAlpn01Port: config.validation.tlsAlpn01Port,
        timeoutMs: config.validation.timeout,
      },
      onResult: hooks.onValidationResult,
      onBacklog: (count) => admission.backlogIs(count),
    });
    closers.push(() => validator.stop());

    const acme: AcmeContext = {
      store,
      ca,
      profiles,
      policy: {
        requireEab: config.acme.requireEab,
        allowDns: config.acme.allow.dns,
        allowIp: config.acme.allow.ip,
        defaultProfile: config.acme.defaultProfile,
        orderLifetimeMs: config.acme.orderLifetime,
        ordersPerHour: config.acme.ordersPerHour,
        nonceTtlMs: config.acme.nonceLifetime,
      },
      urls,
      httpBase,
      logger,
      audit,
      now: () => new Date(),
      pokeValidator: () => {
        admission.validationStarted();
        validator.poke();
      },
      admission,
      onRevoked: () => crl.regenerate('revocation'),
      counters: hooks.counters,
      observe: hooks.observe,
    };
    const acmeHandler = createAcmeApp(acme).callback();
    const adminHandler = createAdminApp({
      store,
      logger,
      audit,
      now: () => new Date(),
      onRevoked: acme.onRevoked,
      sessionPolicy: { idleMs: SESSION_IDLE_MS, absoluteMs: SESSION_ABSOLUTE_MS },
      profiles: [...profiles.keys()],
    }).callback();
    https.on('request', (req, res) => void (isAdminPath(req.url) ? adminHandler(req, res) : acmeHandler(req, res)));
    const httpSide = createHttpSideApp({ store, ca, crl, logger, metrics }).callback();
    const bearerToken = await metricsBearerToken(config.metrics);
    if (bearerToken === undefined) logger.warn({ event: 'policy.metricsOpen' }, '/metrics has no bearer token: anyone who reaches the HTTP port can read it (set metrics.bearerTokenFile)');
    const serveMetrics = metricsHandler(metrics, { bearerToken, logger });
    http.on('request', (req, res) => {
      if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') serveMetrics(req, res);
      else void httpSide(req, res);
    });

    closers.push(startSweeper({ store, logger, everyMs: SWEEP_MS }));

    await system({ type: 'server.started', subject: { kind: 'ca', id: ca.keyId }, details: { directory: urls.directory, httpBase } });
    logger.info({ event: 'server.started', directory: urls.directory, httpBase }, `ACME directory at ${urls.directory}`);
    return {
      directoryUrl: urls.directory,
      dashboardUrl: `https://${hostPart}:${acmePort}${ADMIN_PREFIX}/`,
      httpBase,
      acmePort,
      httpPort,
      logger,
      close: () => runClosers(closers),
    };
  } catch (err) {
    await runClosers(closers);
    throw err;
  }
}

async function runClosers(closers: (() => Promise<void> | void)[]): Promise<void> {
  for (const close of closers.reverse()) await close();
}

function listen(server: HttpServer | ReturnType<typeof createHttpsServer>, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: HttpServer | ReturnType<typeof createHttpsServer>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
