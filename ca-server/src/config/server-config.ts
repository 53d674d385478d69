import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { durationSchema } from './duration.js';
import { readYamlFile } from './yaml-file.js';
import { normaliseCidr, normaliseDnsSuffix } from '../pki/name-constraints.js';

const port = z.number().int().min(1).max(65535);
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be HOST:PORT');
/** A string schema that normalises through `fn`, whose error message becomes the issue. */
const normalised = (fn: (s: string) => string) =>
  z.string().transform((s, ctx) => {
    try {
      return fn(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
const dnsSuffix = normalised(normaliseDnsSuffix);
const cidr = normalised(normaliseCidr);

/** RFC 5425 syslog over TLS to the hospital's Audit Record Repository (ATNA). */
export const auditSyslogSchema = z
  .object({
    url: z.string().regex(/^tls:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be tls://HOST:PORT (RFC 5425, usually port 6514)'),
    /** PEM CA certificate(s) the repository's certificate must chain to. */
    trust: z.string().min(1),
    /** Client certificate and key, for repositories that authenticate their senders (RFC 5425 s4.2). */
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
  })
  .strict()
  .refine((s) => (s.cert === undefined) === (s.key === undefined), { message: 'cert and key go together', path: ['cert'] });

/** The `serve` configuration file. Relative paths are relative to the file. */
export const serverConfigSchema = z
  .object({
    data: z.string().min(1),
    database: z.string().min(1).optional(),
    passphraseFile: z.string().min(1).optional(),
    listen: z
      .object({ host: z.string().default('0.0.0.0'), port: port.default(8443), httpPort: port.default(8080) })
      .strict()
      .prefault({}),
    server: z
      .object({
        /** DNS names and IP addresses of the CA's own HTTPS certificate; the first appears in URLs. */
        names: z.array(z.string().min(1).max(253)).min(1),
        /** Base URL of the plain-HTTP side (CRL, OCSP, CA certificates); default http://<first name>:<httpPort>. */
        httpBase: z.url({ protocol: /^https?$/ }).optional(),
        /** Base URL of the ACME side as clients reach it (behind a load balancer, the balancer's); default https://<first name>:<port>. */
        acmeBase: z.url({ protocol: /^https$/ }).optional(),
      })
      .strict(),
    acme: z
      .object({
        requireEab: z.boolean().default(true),
        defaultProfile: z.string().default('dicom-node'),
        profiles: z.string().optional(),
        allow: z.object({ dns: z.array(dnsSuffix).default([]), ip: z.array(cidr).default([]) }).strict(),
        orderLifetime: durationSchema.default(86_400_000),
        ordersPerHour: z.number().int().min(1).default(1000),
        nonceLifetime: durationSchema.default(3_600_000),
      })
      .strict(),
    validation: z
      .object({
        resolver: hostPort.optional(),
        http01Port: port.default(80),
        tlsAlpn01Port: port.default(443),
        timeout: durationSchema.default(10_000),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({
        /** Prometheus must send `Authorization: Bearer <token>`; absent: /metrics is open to whoever reaches the port. */
        bearerToken: z.string().min(16).max(4096).regex(/^\S+$/, 'no spaces').optional(),
        bearerTokenFile: z.string().min(1).optional(),
        /** An agent without a report for longer is counted silent: three of the agent's default 5-minute intervals. */
        agentSilentAfter: durationSchema.default(15 * 60_000),
      })
      .strict()
      .refine((m) => !(m.bearerToken && m.bearerTokenFile), 'give bearerToken or bearerTokenFile, not both')
      .prefault({}),
    /** Load shedding (503 + Retry-After) before validation or issuance falls behind. */
    admission: z
      .object({
        maxValidationBacklog: z.number().int().min(1).default(256),
        maxFinalizing: z.number().int().min(1).default(32),
        maxInFlight: z.number().int().min(1).default(256),
        /** Open HTTPS connections on this instance; more are closed at accept (clients retry). Each holds 50-200 KB. */
        maxConnections: z.number().int().min(1).default(512),
        /** A connection whose TLS handshake, or whose request's headers, take longer is closed: it only holds a slot. */
        handshakeTimeout: durationSchema.default(10_000),
        retryAfter: durationSchema.default(2000),
      })
      .strict()
      .prefault({}),
    audit: z
      .object({
        /** A checkpoint signed with the issuing CA key after this many entries (and at shutdown). */
        checkpointEvery: z.number().int().min(1).max(1_000_000).default(1000),
        syslog: auditSyslogSchema.optional(),
      })
      .strict()
      .prefault({}),
    log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') }).strict().prefault({}),
  })
  .strict();

export type ServerConfig = z.infer<typeof serverConfigSchema> & { configPath: string };

export async function loadServerConfig(path: string): Promise<ServerConfig> {
  const c = await readYamlFile(path, serverConfigSchema);
  const base = dirname(resolve(path));
  const rel = (p: string | undefined) => (p === undefined ? undefined : resolve(base, p));
  return {
    ...c,
    data: rel(c.data)!,
    ...(c.passphraseFile ? { passphraseFile: rel(c.passphraseFile)! } : {}),
    acme: { ...c.acme, ...(c.acme.profiles ? { profiles: rel(c.acme.profiles)! } : {}) },
    audit: {
      ...c.audit,
      ...(c.audit.syslog
        ? { syslog: { ...c.audit.syslog, trust: rel(c.audit.syslog.trust)!, ...(c.audit.syslog.cert ? { cert: rel(c.audit.syslog.cert)!, key: rel(c.audit.syslog.key)! } : {}) } }
        : {}),
    },
    metrics: { ...c.metrics, ...(c.metrics.bearerTokenFile ? { bearerTokenFile: rel(c.metrics.bearerTokenFile)! } : {}) },
    configPath: resolve(path),
  };
}
