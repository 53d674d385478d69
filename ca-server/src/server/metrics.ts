import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** ACME paths carry ids; the endpoint label keeps only the resource kind so the label set stays small. */
export function endpointOf(path: string): string {
  const [, , resource] = path.split('/');
  return resource ?? 'unknown';
}
