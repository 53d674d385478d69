import { EventEmitter } from 'node:events';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Server } from 'node:net';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import pino, { type Logger } from 'pino';
import { BSI_TLS, PUBLIC_MODE, writeFilesAtomic } from '@wardcert/common';
import { renewalInfo } from './acme/api.js';
import { ariCertId } from './acme/cert-id.js';
import type { AcmeTransport } from './acme/transport.js';
import type { AgentConfig, ListenerSpec } from './config/schema.js';
import { runHook } from './deploy/hooks.js';
import { outputFiles, trustFile } from './keystore/output.js';
import { publishedIssuer } from './keystore/published-issuer.js';
import { pairFiles, readPair, stateLayout, writePair, type CertificatePair } from './keystore/state.js';
import { connect, leafOf, obtainPair } from './renewal.js';
import { agingWarningDue, ariRecheckMs, backoffMs, nextWakeMs, renewalTime, tooYoungToRenew, type RenewalWindow } from './schedule/when.js';
import { retryAfterMs } from './acme/retry-after.js';
import { saveStatus, type AgentStatus } from './status.js';
import { serveControl } from './control-socket.js';
import { createTlsFront } from './listeners/tls-front.js';
import { runServiceProbe } from './probes/isolated.js';
import { probeTls } from './probes/tls-handshake.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const MAX_TIMER_MS = 2 ** 31 - 1;
const PROBE_TIMEOUT_MS = 10_000;

/** A TLS endpoint the agent keeps on the current certificate and checks after each renewal. */
export interface ManagedListener {
  kind: string;
  listen: string;
  reload(pair: CertificatePair): void;
  servedSerial(): string | null;
  /**
   * Proves the endpoint works and serves the expected certificate. `servesCertificate: true` on a
   * failure says the certificate was served fine and the trouble lies behind it (a busy or stopped
   * DICOM/HL7 service): that is reported, but no reason to roll the certificate back.
   */
  probe(expectSerial: string): Promise<ProbeOutcome>;
  stop(): Promise<void>;
}

export interface ProbeOutcome {
  ok: boolean;
  detail: string;
  servesCertificate?: boolean;
}

export interface AgentEvents {
  certificate: [pair: CertificatePair];
  renewed: [pair: CertificatePair];
  error: [err: Error];
}

export type RenewOutcome = { renewed: true; serial: string } | { renewed: false; serial: string; reason: string };

/**
 * The engine behind the command and the library: keeps a valid certificate, writes it where the
 * device reads it, tells the device, swaps listeners over and proves they work, rolling back when
 * they do not. Vendors use it through createAgent().
 */
export class WardcertAgent extends EventEmitter<AgentEvents> {
  private current: CertificatePair | undefined;
  private transport: AcmeTransport | undefined;
  private nextRenewal: Date | undefined;
  /** The last ARI window and the certificate it was for: the same window keeps the moment drawn in it. */
  private window: (RenewalWindow & { serial: string }) | undefined;
  private ariRecheck: Date | undefined;
  /** The serial of a certificate obtained early because the CA asked: it is not renewed early again. */
  private earlyRenewal: string | undefined;
  private lastError: string | null = null;
  private endpoints: ManagedListener[] = [];
  private listenerResults = new Map<ManagedListener, boolean | null>();
  private timer: NodeJS.Timeout | undefined;
  private reporter: NodeJS.Timeout | undefined;
  private control: Server | undefined;
  private failures = 0;
  private stopping = false;
  private lastWarning: Date | undefined;
  private renewing: Promise<RenewOutcome> | undefined;
  private listenersStarted = false;
  private reporting = false;
  private hl7Message: string | undefined;
  /** The issuing CA the CA publishes (caIssuers), kept in trust.pem beside the chain. */
  private publishedIssuer: string | undefined;
  readonly paths: ReturnType<typeof stateLayout>;

  constructor(
    readonly config: AgentConfig,
    readonly logger: Logger = pino({ level: 'info', base: { service: 'wardcert-agent' } }),
  ) {
    super();
    this.paths = stateLayout(config.state);
  }

  /** Loads the certificate the state directory holds, if any. */
  async load(): Promise<void> {
    this.current = await readPair(this.paths.current);
    if (this.current) this.emit('certificate', this.current);
  }

  certificate(): CertificatePair | undefined {
    return this.current;
  }

  /**
   * The current certificate with the BSI policy as TLS options: for `tls.createServer()` and for
   * `server.setSecureContext()`, which is what swaps the certificate for clients that send no SNI
   * (DCMTK among them), where an SNICallback is never asked.
   */
  tlsOptions(): SecureContextOptions {
    if (!this.current) throw new Error('no certificate yet');
    return { ...BSI_TLS, key: this.current.key, cert: this.current.chain };
  }

  /** A secure context on the current certificate, with the BSI policy, for a vendor's own server (an SNICallback, say). */
  secureContext(): SecureContext {
    return createSecureContext(this.tlsOptions());
  }

  manage(listener: ManagedListener): void {
    this.endpoints.push(listener);
    this.listenerResults.set(listener, null);
  }

  /**
   * Makes sure a valid certificate exists: obtains one when there is none, it has expired, it is due,
   * or `force` is set. Concurrent calls share one renewal.
   */
  ensureCertificate(opts: { force?: boolean } = {}): Promise<RenewOutcome> {
    this.renewing ??= this.ensure(opts).finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  private async ensure({ force = false }: { force?: boolean }): Promise<RenewOutcome> {
    const now = new Date();
    let early = false;
    if (this.current && !force) {
      const leaf = leafOf(this.current);
      const serial = leaf.serialNumber.toLowerCase();
      if (leaf.notAfter > now) {
        const young = tooYoungToRenew(leaf, now);
        if ((await this.dueAt(leaf, now)) > now) return { renewed: false, serial, reason: young ? 'just obtained' : 'not due' };
        // Young and due: only a window wholly past (revoked, or renew-now) renews it, and once in a row.
        if (young && !this.caAsksToRenew(serial, now)) return { renewed: false, serial, reason: 'just obtained' };
        early = young;
      }
    }
    try {
      if (early) this.logger.info({ event: 'renewal.early', serial: leafOf(this.current!).serialNumber.toLowerCase() }, "renewing a young certificate: the CA's renewal window for it has passed");
      const pair = await obtainPair(await this.connection(), this.config, this.current);
      this.lastError = null;
      await this.install(pair);
      this.failures = 0;
      const serial = leafOf(pair).serialNumber.toLowerCase();
      this.earlyRenewal = early ? serial : undefined;
      return { renewed: true, serial };
    } catch (err) {
      this.failures++;
      this.lastError = (err as Error).message;
      this.emit('error', err as Error);
      this.warnIfLate();
      throw err;
    } finally {
      await this.persistStatus();
    }
  }

  private async connection(): Promise<AcmeTransport> {
    this.transport ??= await connect(this.config);
    return this.transport;
  }

  /**
   * When the current certificate is due, asking the CA for its ARI window first and noting when to
   * ask again (Retry-After). The moment drawn inside a window stays while the window does; a window
   * the CA moved (renew-now, a revocation) draws again. Without an answer, the last window known
   * for this certificate, else two thirds of the lifetime.
   */
  private async dueAt(leaf: ReturnType<typeof leafOf>, now = new Date()): Promise<Date> {
    const serial = leaf.serialNumber.toLowerCase();
    const known = this.window?.serial === serial ? this.window : undefined;
    let window: RenewalWindow | undefined;
    try {
      const id = ariCertId(leaf);
      const ari = id ? await renewalInfo(await this.connection(), id) : undefined;
      if (ari) {
        window = { start: new Date(ari.body.suggestedWindow.start), end: new Date(ari.body.suggestedWindow.end) };
        this.ariRecheck = new Date(now.getTime() + ariRecheckMs(retryAfterMs(ari.headers['retry-after'])));
      } else {
        this.ariRecheck = undefined;
      }
    } catch (err) {
      window = known;
      this.ariRecheck = new Date(now.getTime() + ariRecheckMs(undefined));
      this.logger.warn({ err: (err as Error).message }, `no renewal window from the CA; using ${window ? 'the last one it gave' : 'two thirds of the lifetime'}`);
    }
    const unchanged = window && known && this.nextRenewal && window.start.getTime() === known.start.getTime() && window.end.getTime() === known.end.getTime();
    if (!unchanged) this.nextRenewal = renewalTime(leaf, window, now);
    this.window = window ? { ...window, serial } : undefined;
    return this.nextRenewal!;
  }

  /** RFC 9773: a window wholly in the past asks for a renewal now; the loop guard allows it once in a row. */
  private caAsksToRenew(serial: string, now: Date): boolean {
    return this.window?.serial === serial && this.window.end <= now && this.earlyRenewal !== serial;
  }

  /**
   * Previous pair kept for rollback, new pair in the state and output folders, hooks run, listeners
   * swapped and probed; when a probe fails, back to the previous certificate while it is valid.
   */
  private async install(pair: CertificatePair): Promise<void> {
    const previous = this.current;
    if (previous) await writePair(this.paths.previous, previous);
    await this.deploy(pair);
    const serial = leafOf(pair).serialNumber.toLowerCase();
    const failed = await this.probeAll(serial);
    const certificateFailures = failed.filter((f) => !f.servesCertificate).map((f) => f.text);
    if (certificateFailures.length && previous && leafOf(previous).notAfter > new Date()) {
      this.logger.error({ event: 'rollback', failed: certificateFailures }, 'listeners failed with the new certificate; rolling back to the previous one');
      await this.deploy(previous);
      await this.probeAll(leafOf(previous).serialNumber.toLowerCase());
      throw new Error(`probes failed with certificate ${serial} (${certificateFailures.join('; ')}); rolled back to the previous certificate`);
    }
    if (failed.length) {
      this.lastError = `listeners failing (the new certificate is served; the service behind does not answer): ${failed.map((f) => f.text).join('; ')}`;
      this.logger.error({ event: 'probe.failed', failed: failed.map((f) => f.text) }, this.lastError);
    }
    this.emit('renewed', pair);
    this.logger.info({ event: 'renewed', serial, notAfter: leafOf(pair).notAfter.toISOString() }, 'certificate renewed');
  }

  /**
   * State and output files replaced as one set, so the key, the certificate and the chain on disk
   * always belong together; when that fails (a full disk) every old file stays, and so does the
   * current certificate in the listeners.
   */
  private async deploy(pair: CertificatePair): Promise<void> {
    const outputs = await outputFiles(this.config.output.dir, pair, this.config.server.trust, { p12: this.config.output.p12, publishedIssuer: this.publishedIssuer });
    const archived = { path: this.paths.archive(leafOf(pair).serialNumber.toLowerCase()), data: pair.chain, mode: PUBLIC_MODE };
    const files = [...pairFiles(this.paths.current, pair), archived, ...outputs];
    try {
      await writeFilesAtomic(files);
    } catch (err) {
      throw new Error(`could not write certificate ${leafOf(pair).serialNumber.toLowerCase()} to disk (${(err as Error).message}); the files on disk are unchanged and the current certificate stays in use`);
    }
    this.current = pair;
    this.emit('certificate', pair);
    await this.runHooks();
    for (const l of this.endpoints) l.reload(pair);
  }

  private async runHooks(): Promise<void> {
    const env = { WARDCERT_OUTPUT_DIR: this.config.output.dir, WARDCERT_SERIAL: leafOf(this.current!).serialNumber.toLowerCase() };
    for (const hook of this.config.hooks) {
      const result = await runHook(hook, env);
      (result.ok ? this.logger.info.bind(this.logger) : this.logger.error.bind(this.logger))({ event: 'hook', ...result }, `hook ${result.hook}: ${result.detail}`);
    }
  }

  /**
   * Keeps trust.pem on the CA's current issuing CA, as the CA publishes it at the certificate's
   * caIssuers URL: after an intermediate rotation the device trusts the new issuing CA before its own
   * certificate is renewed under it. Runs the hooks when trust.pem changed; true then.
   */
  async refreshTrust(): Promise<boolean> {
    if (!this.current || !this.config.server.trust) return false;
    const root = await readFile(this.config.server.trust, 'utf8');
    const issuer = await publishedIssuer(leafOf(this.current), root, PROBE_TIMEOUT_MS);
    if (!issuer || issuer.pem === this.publishedIssuer) return false;
    this.publishedIssuer = issuer.pem;
    const trust = trustFile(this.config.output.dir, this.current, root, issuer.pem);
    if ((await readFile(trust.path, 'utf8').catch(() => '')) === trust.data) return false;
    await writeFilesAtomic([trust]);
    this.logger.info({ event: 'trust.refreshed', issuer: issuer.subject }, 'trust.pem now holds the issuing CA the CA publishes');
    await this.runHooks();
    return true;
  }

  private async probeAll(serial: string): Promise<{ text: string; servesCertificate: boolean }[]> {
    const failed: { text: string; servesCertificate: boolean }[] = [];
    for (const l of this.endpoints) {
      const result = await l.probe(serial);
      this.listenerResults.set(l, result.ok);
      if (!result.ok) failed.push({ text: `${l.kind} ${l.listen}: ${result.detail}`, servesCertificate: result.servesCertificate === true });
    }
    return failed;
  }

  status(): AgentStatus {
    const leaf = this.current ? leafOf(this.current) : undefined;
    return {
      certificate: leaf
        ? { serial: leaf.serialNumber.toLowerCase(), notAfter: leaf.notAfter.toISOString(), identifiers: this.config.certificate.identifiers.map((i) => i.value) }
        : null,
      nextRenewal: this.nextRenewal?.toISOString() ?? null,
      listeners: this.endpoints.map((l) => ({ kind: l.kind, listen: l.listen, ok: this.listenerResults.get(l) ?? null, servedSerial: l.servedSerial() })),
      lastError: this.lastError,
      agentVersion: version,
      updatedAt: new Date().toISOString(),
    };
  }

  private persistStatus(): Promise<void> {
    return saveStatus(this.paths.status, this.status()).catch((err) => this.logger.error({ err }, 'could not write status'));
  }

  /** The daemon: renew when due, retry with backoff when the CA is away, answer the control socket. */
  async start(): Promise<void> {
    await mkdir(this.config.state, { recursive: true, mode: 0o700 });
    await this.load();
    this.control = await serveControl(this.paths.socket, async (req) => (req.cmd === 'renew' ? this.ensureCertificate({ force: !!req.force }) : this.status()));
    await this.tick();
    await this.report();
    if (this.stopping) return;
    this.reporter = setInterval(() => void this.report(), this.config.report.interval);
    this.reporter.unref();
  }

  /** The configured TLS fronts, started once there is a certificate to serve. */
  private async startListeners(): Promise<void> {
    if (this.listenersStarted || !this.current) return;
    this.listenersStarted = true;
    const trust = this.config.server.trust ? await readFile(this.config.server.trust, 'utf8') : undefined;
    if (this.config.probes.hl7.message) this.hl7Message = await readFile(this.config.probes.hl7.message, 'utf8');
    for (const spec of this.config.listeners) {
      const front = createTlsFront(spec, this.current, this.logger);
      const bound = await front.start();
      this.manage({
        kind: spec.kind,
        listen: spec.listen.text,
        reload: (pair) => front.reload(pair),
        servedSerial: () => front.servedSerial(),
        probe: (expectSerial) => this.probeFront(spec, bound, trust, expectSerial),
        stop: () => front.stop(),
      });
      this.logger.info({ event: 'listener.started', kind: spec.kind, listen: spec.listen.text, backend: spec.backend.text }, 'TLS front listening');
    }
    await this.probeAll(leafOf(this.current).serialNumber.toLowerCase());
  }

  /** The served certificate first (chain and serial); then the service behind: C-ECHO or an HL7 message and its ACK. */
  private async probeFront(spec: ListenerSpec, bound: { host: string; port: number }, trust: string | undefined, expectSerial: string) {
    if (!trust) return { ok: false, detail: 'no server.trust configured to verify the listener against' };
    const client = spec.mtls ? { client: this.current! } : {};
    const handshake = await probeTls({ ...bound, trust, ...client, expectSerial, timeoutMs: PROBE_TIMEOUT_MS });
    if (!handshake.ok) return { ...handshake, servesCertificate: false };
    const service = await runServiceProbe(
      spec.kind === 'dicom'
        ? { kind: 'dicom', args: { ...bound, ...this.config.probes.dicom, ...client, timeoutMs: PROBE_TIMEOUT_MS } }
        : { kind: 'hl7', args: { ...bound, trust, ...client, ...(this.hl7Message ? { message: this.hl7Message } : {}), timeoutMs: PROBE_TIMEOUT_MS } },
    );
    return service.ok ? { ok: true, detail: `${handshake.detail}; ${service.detail}` } : { ...service, servesCertificate: true };
  }

  /** Every report interval: probe the fronts again and tell the CA how this device stands. */
  private async report(): Promise<void> {
    // Probes of a dead service behind a front take their full timeout: reports must not pile up.
    if (this.reporting) return;
    this.reporting = true;
    try {
      await this.refreshTrust().catch((err: Error) => this.logger.warn({ event: 'trust.refreshFailed', err: err.message }, "could not read the CA's current issuing CA"));
      if (this.current) await this.probeAll(leafOf(this.current).serialNumber.toLowerCase());
      await this.persistStatus();
      const transport = await this.connection();
      const url = (await transport.directory()).wardcertAgentReport;
      if (url) await transport.post(url, this.status());
    } catch (err) {
      this.logger.warn({ event: 'report.failed', err: (err as Error).message }, 'could not report status to the CA');
    } finally {
      this.reporting = false;
    }
  }

  private async tick(): Promise<void> {
    let wait: number;
    try {
      const outcome = await this.ensureCertificate();
      await this.startListeners();
      if (outcome.renewed) await this.dueAt(leafOf(this.current!));
      wait = nextWakeMs(this.nextRenewal, this.ariRecheck, new Date());
      this.logger.info({ event: 'schedule', nextRenewal: this.nextRenewal?.toISOString(), ariRecheck: this.ariRecheck?.toISOString() }, 'next renewal check scheduled');
    } catch (err) {
      wait = backoffMs(this.failures);
      this.logger.warn({ event: 'renewal.failed', err: (err as Error).message, retryInMs: wait }, 'renewal failed; keeping the current certificate');
    }
    await this.persistStatus();
    if (!this.stopping) this.timer = setTimeout(() => void this.tick(), Math.min(wait, MAX_TIMER_MS));
  }

  /** From one third of the lifetime left, once a day: the certificate is aging and the CA is not answering. */
  private warnIfLate(): void {
    const now = new Date();
    if (!this.current || !agingWarningDue(leafOf(this.current), now, this.lastWarning)) return;
    this.lastWarning = now;
    const { notAfter } = leafOf(this.current);
    this.logger.warn({ event: 'certificate.aging', notAfter: notAfter.toISOString() }, `could not renew; the certificate ${notAfter > now ? 'expires' : 'expired'} ${notAfter.toISOString()}`);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    clearInterval(this.reporter);
    await new Promise<void>((resolve) => (this.control ? this.control.close(() => resolve()) : resolve()));
    await Promise.all(this.endpoints.map((l) => l.stop()));
  }
}

/** The library entry point for vendors: the same engine as the command, with events. */
export function createAgent(config: AgentConfig, logger?: Logger): WardcertAgent {
  return new WardcertAgent(config, logger);
}
