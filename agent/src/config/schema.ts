import { isIP } from 'node:net';
import { z } from 'zod';
import { parseDuration } from '@wardcert/common';

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be HOST:PORT (IPv6 in brackets)')
  .transform((s) => {
    const at = s.lastIndexOf(':');
    return { host: s.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(s.slice(at + 1)), text: s };
  })
  .refine((a) => a.port >= 1 && a.port <= 65535, 'port must be 1 to 65535');

const duration = z.string().transform((s, ctx) => {
  const ms = parseDuration(s);
  if (!ms) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not a duration such as 90s, 5m or 12h` });
    return z.NEVER;
  }
  return ms;
});

const DNS_NAME = /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

const identifier = z.string().transform((s, ctx) => {
  if (isIP(s)) return { type: 'ip' as const, value: s };
  if (DNS_NAME.test(s)) return { type: 'dns' as const, value: s.toLowerCase() };
  ctx.addIssue({ code: 'custom', message: `"${s}" is neither a DNS name nor an IP address` });
  return z.NEVER;
});

export const KEY_TYPES = ['ecdsa-p256', 'ecdsa-p384', 'rsa-3072', 'rsa-4096'] as const;

const hook = z.union([
  z.object({ command: z.string().min(1), timeout: duration.default(60_000) }).strict(),
  z.object({ signal: z.object({ pidFile: z.string(), name: z.enum(['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGTERM']).default('SIGHUP') }).strict() }).strict(),
  z.object({ http: z.object({ url: z.url({ protocol: /^https?$/ }), method: z.enum(['POST', 'PUT', 'GET']).default('POST') }).strict(), timeout: duration.default(30_000) }).strict(),
]);

/** DICOM AE titles: up to 16 characters of the default character repertoire, no backslash. */
const aeTitle = z.string().regex(/^[\x20-\x5b\x5d-\x7e]{1,16}$/, 'an AE title of 1 to 16 characters').refine((s) => s.trim().length > 0, 'an AE title must not be blank');

const listener = z
  .object({
    kind: z.enum(['dicom', 'hl7']),
    listen: hostPort,
    backend: hostPort,
    mtls: z.object({ require: z.boolean().default(true), trust: z.string().min(1) }).strict().optional(),
    maxConnections: z.number().int().min(1).max(10_000).default(256),
  })
  .strict();

/** The agent's configuration file (YAML); paths are resolved against the file's folder. */
export const agentConfigSchema = z
  .object({
    server: z.object({ directory: z.url({ protocol: /^https?$/ }), trust: z.string().min(1).optional() }).strict(),
    account: z
      .object({
        eab: z.object({ kid: z.string().min(1).max(200), hmacKey: z.string().regex(/^[A-Za-z0-9_-]+$/, 'base64url') }).strict().optional(),
        contact: z.array(z.string().regex(/^mailto:[^@\s,]+@[^@\s,]+$/, 'a mailto: address')).max(10).default([]),
      })
      .strict()
      .prefault({}),
    state: z.string().min(1),
    certificate: z
      .object({
        identifiers: z.array(identifier).min(1).max(100),
        profile: z.string().max(64).optional(),
        key: z.enum(KEY_TYPES).default('ecdsa-p256'),
        /** A fresh key for every certificate is the default; reuse only where a device pins its key. */
        reuseKey: z.boolean().default(false),
      })
      .strict(),
    challenge: z
      .object({ http01: z.object({ listen: hostPort }).strict().optional(), tlsalpn01: z.object({ listen: hostPort }).strict().optional() })
      .strict()
      .refine((c) => c.http01 || c.tlsalpn01, 'configure http01 or tlsalpn01'),
    output: z
      .object({
        dir: z.string().min(1),
        /** bundle.p12 beside the PEM files, for Java engines; the password's first line is read from the file. */
        p12: z.object({ passwordFile: z.string().min(1) }).strict().optional(),
      })
      .strict(),
    hooks: z.array(hook).default([]),
    listeners: z.array(listener).default([]),
    /** Probes and a status report to the CA every interval. */
    report: z.object({ interval: duration.default(300_000) }).strict().prefault({}),
    probes: z
      .object({
        /** AE titles of the C-ECHO sent through each dicom front after a renewal. */
        dicom: z.object({ callingAE: aeTitle.default('WARDCERT'), calledAE: aeTitle.default('ANY-SCP') }).strict().prefault({}),
        /** A file holding the HL7 v2 message sent through each hl7 front; default an NMD^N02 link check. */
        hl7: z.object({ message: z.string().min(1).optional() }).strict().prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type Hook = AgentConfig['hooks'][number];
export type ListenerSpec = AgentConfig['listeners'][number];
export type Identifier = AgentConfig['certificate']['identifiers'][number];
