import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../store/index.js';

const HOUR_MS = 3_600_000;
const EXPIRY_HORIZONS = [
  { within: '24h', ms: 24 * HOUR_MS },
  { within: '7d', ms: 7 * 24 * HOUR_MS },
] as const;

/** The Prometheus metrics the CA exposes on /metrics of its HTTP port. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'wardcert_' });
  return {
    registry,
    requests: new Histogram({
      name: 'wardcert_acme_request_duration_seconds',
      help: 'ACME request latency by endpoint',
      labelNames: ['endpoint', 'method', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    validations: new Counter({
      name: 'wardcert_validations_total',
      help: 'Challenge validations by type and result',
      labelNames: ['type', 'result'] as const,
      registers: [registry],
    }),
    issued: new Counter({
      name: 'wardcert_certificates_issued_total',
      help: 'Certificates this instance issued, by profile',
      labelNames: ['profile'] as const,
      registers: [registry],
    }),
    revoked: new Counter({
      name: 'wardcert_certificates_revoked_total',
      help: 'Certificates this instance revoked, by profile',
      labelNames: ['profile'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** How the ACME app and the validator report into the metrics: the same hooks for the server and its tests. */
export function metricHooks(metrics: Metrics) {
  return {
    counters: {
      issued: (profile: string) => metrics.issued.inc({ profile }),
      revoked: (profile: string) => metrics.revoked.inc({ profile }),
    },
    observe: (path: string, method: string, status: number, seconds: number) =>
      metrics.requests.observe({ endpoint: endpointOf(path), method, status: String(status) }, seconds),
    onValidationResult: (type: string, ok: boolean) => metrics.validations.inc({ type, result: ok ? 'valid' : 'invalid' }),
  };
}

export type MetricHooks = ReturnType<typeof metricHooks>;

export interface StoreGaugeOptions {
  /** An agent whose newest report is older than this is silent (default: three of the agent's default 5-minute intervals). */
  agentSilentAfterMs: number;
  now?: () => Date;
}

/**
 * Gauges read from the store at scrape time, so every instance on a shared database reports the
 * same truth: each is one indexed count (or, for probes, a scan of only the reports that hold a failure).
 */
export function registerStoreGauges(metrics: Metrics, store: Store, opts: StoreGaugeOptions): void {
  const now = opts.now ?? (() => new Date());
  new Gauge({
    name: 'wardcert_certificates_expiring',
    help: 'Valid certificates that expire within 24 hours or 7 days',
    labelNames: ['within'] as const,
    registers: [metrics.registry],
    async collect() {
      const at = now();
      for (const h of EXPIRY_HORIZONS) this.set({ within: h.within }, await store.certificates.countExpiring(at, new Date(at.getTime() + h.ms)));
    },
  });
  new Gauge({
    name: 'wardcert_agents_silent',
    help: 'Agents whose newest status report is older than the silence threshold',
    registers: [metrics.registry],
    async collect() {
      this.set(await store.agentReports.countSilent(new Date(now().getTime() - opts.agentSilentAfterMs)));
    },
  });
  new Gauge({
    name: 'wardcert_listener_probe_failures',
    help: "Listeners whose probe failed in their agent's newest report, by kind",
    labelNames: ['kind'] as const,
    registers: [metrics.registry],
    async collect() {
      const counts = await store.agentReports.failingListeners();
      this.reset();
      for (const kind of ['dicom', 'hl7']) this.set({ kind }, counts.get(kind) ?? 0);
    },
  });
}

/** ACME paths carry ids; the endpoint label keeps only the resource kind so the label set stays small. */
export function endpointOf(path: string): string {
  const [, , resource] = path.split('/');
  return resource ?? 'unknown';
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Both sides hashed first, so the comparison takes the same time whatever the length or content. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer ([^\s]+)$/i.exec(header ?? '');
  return timingSafeEqual(digest(m?.[1] ?? ''), digest(token)) && m !== null;
}

/**
 * GET /metrics in Prometheus text. With a token configured, a request without the right
 * `Authorization: Bearer` header gets 401 and nothing else. A store that cannot answer gives 503.
 */
export function metricsHandler(metrics: Metrics, o: { bearerToken?: string | undefined; logger: Logger }) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (o.bearerToken !== undefined && !bearerMatches(req.headers.authorization, o.bearerToken)) {
      res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8', 'WWW-Authenticate': 'Bearer realm="wardcert metrics"' });
      res.end('a bearer token is required\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
        res.end(text);
      },
      (err: unknown) => {
        o.logger.error({ err }, 'metrics collection failed');
        res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '10' });
        res.end('metrics are unavailable: the store did not answer\n');
      },
    );
  };
}
