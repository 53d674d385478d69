import { EventEmitter } from 'node:events';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Server } from 'node:net';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import pino, { type Logger } from 'pino';
import { BSI_TLS, writeFilesAtomic } from '@wardcert/common';
import { renewalInfo } from './acme/api.js';
import { ariCertId } from './acme/cert-id.js';
import type { AcmeTransport } from './acme/transport.js';
import type { AgentConfig, ListenerSpec } from './config/schema.js';
import { runHook } from './deploy/hooks.js';
import { outputFiles } from './keystore/output.js';
import { pairFiles, readPair, stateLayout, writePair, type CertificatePair } from './keystore/state.js';
import { connect, leafOf, obtainPair } from './renewal.js';
import { backoffMs, inWarningZone, renewalTime, tooYoungToRenew, type RenewalWindow } from './schedule/when.js';
import { saveStatus, type AgentStatus } from './status.js';
import { serveControl } from './control-socket.js';
import { createTlsFront } from './listeners/tls-front.js';
import { runServiceProbe } from './probes/isolated.js';
import { probeTls } from './probes/tls-handshake.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const DAY_MS = 86_400_000;
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
  private lastError: string | null = null;
  private endpoints: ManagedListener[] = [];
  private listenerResults = new Map<ManagedListener, boolean | null>();
  private timer: NodeJS.Timeout | undefined;
  private reporter: NodeJS.Timeout | undefined;
  private control: Server | undefined;
  private failures = 0;
  private stopping = false;
  private lastWarning = 0;
  private renewing: Promise<RenewOutcome> | undefined;
  private listenersStarted = false;
  private hl7Message: string | undefined;
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
    if (this.current && !force) {
      const leaf = leafOf(this.current);
      if (leaf.notAfter > now && tooYoungToRenew(leaf, now)) return { renewed: false, serial: leaf.serialNumber.toLowerCase(), reason: 'just obtained' };
      if (leaf.notAfter > now && (await this.dueAt(leaf)) > now) return { renewed: false, serial: leaf.serialNumber.toLowerCase(), reason: 'not due' };
    }
    try {
      const pair = await obtainPair(await this.connection(), this.config, this.current);
      this.lastError = null;
      await this.install(pair);
      this.failures = 0;
      return { renewed: true, serial: leafOf(pair).serialNumber.toLowerCase() };
    } catch (err) {
      this.failures++;
      this.lastError = (err as Error).message;
      this.emit('error', err as Error);
      throw err;
    } finally {
      await this.persistStatus();
    }
  }

  private async connection(): Promise<AcmeTransport> {
    this.transport ??= await connect(this.config);
    return this.transport;
  }

  /** When the current certificate is due, asking the CA for its ARI window first. */
  private async dueAt(leaf: ReturnType<typeof leafOf>): Promise<Date> {
    let window: RenewalWindow | undefined;
    try {
      const id = ariCertId(leaf);
      const ari = id ? await renewalInfo(await this.connection(), id) : undefined;
      if (ari) window = { start: new Date(ari.body.suggestedWindow.start), end: new Date(ari.body.suggestedWindow.end) };
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'no renewal window from the CA; using two thirds of the lifetime');
    }
    this.nextRenewal = renewalTime(leaf, window, new Date());
    return this.nextRenewal;
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
    const files = [...pairFiles(this.paths.current, pair), ...(await outputFiles(this.config.output.dir, pair, this.config.server.trust, this.config.output.p12))];
    try {
      await writeFilesAtomic(files);
    } catch (err) {
      throw new Error(`could not write certificate ${leafOf(pair).serialNumber.toLowerCase()} to disk (${(err as Error).message}); the files on disk are unchanged and the current certificate stays in use`);
    }
    this.current = pair;
    this.emit('certificate', pair);
    const env = { WARDCERT_OUTPUT_DIR: this.config.output.dir, WARDCERT_SERIAL: leafOf(pair).serialNumber.toLowerCase() };
    for (const hook of this.config.hooks) {
      const result = await runHook(hook, env);
      (result.ok ? this.logger.info.bind(this.logger) : this.logger.error.bind(this.logger))({ event: 'hook', ...result }, `hook ${result.hook}: ${result.detail}`);
    }
    for (const l of this.endpoints) l.reload(pair);
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
    try {
      if (this.current) await this.probeAll(leafOf(this.current).serialNumber.toLowerCase());
      await this.persistStatus();
      const transport = await this.connection();
      const url = (await transport.directory()).wardcertAgentReport;
      if (url) await transport.post(url, this.status());
    } catch (err) {
      this.logger.warn({ event: 'report.failed', err: (err as Error).message }, 'could not report status to the CA');
    }
  }

  private async tick(): Promise<void> {
    let wait: number;
    try {
      await this.ensureCertificate();
      await this.startListeners();
      const leaf = leafOf(this.current!);
      wait = Math.max(1000, (this.nextRenewal ?? (await this.dueAt(leaf))).getTime() - Date.now());
    } catch (err) {
      wait = backoffMs(this.failures);
      this.warnIfLate();
      this.logger.warn({ event: 'renewal.failed', err: (err as Error).message, retryInMs: wait }, 'renewal failed; keeping the current certificate');
    }
    await this.persistStatus();
    if (!this.stopping) this.timer = setTimeout(() => void this.tick(), Math.min(wait, MAX_TIMER_MS));
  }

  /** From one third of the lifetime left, once a day: the certificate is aging and the CA is not answering. */
  private warnIfLate(): void {
    if (!this.current || Date.now() - this.lastWarning < DAY_MS) return;
    const leaf = leafOf(this.current);
    if (!inWarningZone(leaf, new Date())) return;
    this.lastWarning = Date.now();
    this.logger.warn({ event: 'certificate.aging', notAfter: leaf.notAfter.toISOString() }, `could not renew; the certificate expires ${leaf.notAfter.toISOString()}`);
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
