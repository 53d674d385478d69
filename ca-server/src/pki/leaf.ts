import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash } from 'node:crypto';
import type { CheckedCsr } from './csr.js';
import type { IssuingCa } from './issuing-ca.js';
import { expandUrl, type Profile } from './profiles.js';
import { describeConstraints, withinConstraints, type Identifier } from './name-constraints.js';
import { authorityKeyId, BACKDATE_MS } from './ca-certificates.js';
import { randomSerial } from './serial.js';
import { cryptoFor } from './crypto.js';
import { formatDuration } from '../config/duration.js';

/** Why a leaf was refused, named by the RFC 8555 error type it maps to. */
export type LeafProblem = 'badPublicKey' | 'badCSR' | 'rejectedIdentifier' | 'unsupportedIdentifier' | 'malformed';

export class LeafPolicyError extends Error {
  override readonly name = 'LeafPolicyError';
  constructor(
    readonly problem: LeafProblem,
    message: string,
  ) {
    super(message);
  }
}

export interface LeafRequest {
  ca: IssuingCa;
  profile: Profile;
  request: CheckedCsr;
  /** How long it lives; the profile's default when absent. */
  validityMs?: number | undefined;
  /** Base URL of the CA's plain-HTTP side, for the profile's CRL/OCSP/AIA templates. */
  httpBase?: string | undefined;
  /** Told when a legacy key is accepted under a profile's opt-in. */
  onLegacyKey?: (message: string) => void;
}

export interface IssuedLeaf {
  readonly cert: x509.X509Certificate;
  readonly serial: string;
  readonly identifiers: Identifier[];
  readonly spkiSha256: string;
  /** Leaf then issuing CA, PEM: what a device installs as its certificate chain. */
  readonly chainPem: string;
}

const KEY_USAGE_FLAGS: Record<string, x509.KeyUsageFlags> = {
  digitalSignature: x509.KeyUsageFlags.digitalSignature,
  nonRepudiation: x509.KeyUsageFlags.nonRepudiation,
  keyEncipherment: x509.KeyUsageFlags.keyEncipherment,
  dataEncipherment: x509.KeyUsageFlags.dataEncipherment,
  keyAgreement: x509.KeyUsageFlags.keyAgreement,
};

/** Checks a request against the profile and the CA's name constraints, then signs the leaf. */
export async function issueLeaf(req: LeafRequest): Promise<IssuedLeaf> {
  const { ca, profile, request } = req;
  checkKey(req);
  const identifiers = checkIdentifiers(req);
  const validityMs = req.validityMs ?? profile.validity.default;
  if (validityMs > profile.validity.max) {
    throw new LeafPolicyError('malformed', `validity ${formatDuration(validityMs)} exceeds the ${profile.name} maximum of ${formatDuration(profile.validity.max)}`);
  }
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const notAfter = new Date(Date.now() + validityMs);
  if (notAfter > ca.cert.notAfter) {
    throw new LeafPolicyError('malformed', `the issuing CA expires ${ca.cert.notAfter.toISOString()}, before the requested certificate would`);
  }
  const serial = randomSerial();
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial,
      subject: leafSubject(identifiers),
      issuer: ca.cert.subjectName,
      notBefore,
      notAfter,
      publicKey: request.csr.publicKey,
      signingKey: ca.key.privateKey,
      signingAlgorithm: ca.key.signingAlgorithm,
      extensions: await leafExtensions(req, identifiers),
    },
    ca.key.crypto,
  );
  return {
    cert,
    serial,
    identifiers,
    spkiSha256: createHash('sha256').update(Buffer.from(request.csr.publicKey.rawData)).digest('hex'),
    chainPem: `${cert.toString('pem')}\n${ca.cert.toString('pem')}\n`,
  };
}

/**
 * CN is the first DNS name, for tools that still show it. An IP address never goes into CN: OpenSSL
 * checks a CN that looks like a host name against DNS name constraints, and an address would fail.
 */
function leafSubject(identifiers: Identifier[]): x509.Name {
  const dns = identifiers.find((id) => id.type === 'dns');
  return new x509.Name(dns ? [{ CN: [dns.value] }] : []);
}

function checkKey({ profile, request, onLegacyKey }: LeafRequest): void {
  const alg = request.keySpec.name;
  if (alg === 'rsa-2048') {
    if (!profile.legacyRsa2048) {
      throw new LeafPolicyError('badPublicKey', `RSA 2048 keys are refused by profile ${profile.name}: BSI TR-02102-1 requires RSA of at least 3000 bits`);
    }
    onLegacyKey?.(`profile ${profile.name} accepted a legacy RSA 2048 key (legacyRsa2048 opt-in)`);
    return;
  }
  if (!(profile.keyAlgorithms as string[]).includes(alg)) {
    throw new LeafPolicyError('badPublicKey', `key algorithm ${alg} is not allowed by profile ${profile.name} (allowed: ${profile.keyAlgorithms.join(', ')})`);
  }
}

function checkIdentifiers({ profile, request, ca }: LeafRequest): Identifier[] {
  const ids = request.identifiers;
  if (ids.length === 0) throw new LeafPolicyError('badCSR', 'the CSR names no DNS name or IP address');
  if (ids.length > profile.identifiers.max) {
    throw new LeafPolicyError('rejectedIdentifier', `the CSR names ${ids.length} identifiers; profile ${profile.name} allows ${profile.identifiers.max}`);
  }
  for (const id of ids) {
    if (!profile.identifiers.types.includes(id.type)) {
      throw new LeafPolicyError('unsupportedIdentifier', `profile ${profile.name} does not issue ${id.type} identifiers (${id.value})`);
    }
    if (!withinConstraints(id, ca.constraints)) {
      throw new LeafPolicyError(
        'rejectedIdentifier',
        `${id.value} is outside the issuing CA's name constraints (${describeConstraints(ca.constraints)})`,
      );
    }
  }
  return ids;
}

async function leafExtensions(req: LeafRequest, identifiers: Identifier[]): Promise<x509.Extension[]> {
  const { profile, ca, request, httpBase } = req;
  const usages = [...profile.keyUsage, ...(request.keySpec.kind === 'rsa' ? profile.rsaKeyUsage : [])];
  const flags = usages.reduce((acc, u) => acc | KEY_USAGE_FLAGS[u]!, 0);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(flags, true),
    new x509.ExtendedKeyUsageExtension(profile.extendedKeyUsage.map((e) => x509.ExtendedKeyUsage[e])),
    // RFC 5280 s4.2.1.6: with an empty subject the SAN must be critical.
    new x509.SubjectAlternativeNameExtension(identifiers.map((id) => ({ type: id.type, value: id.value })), !identifiers.some((id) => id.type === 'dns')),
    authorityKeyId(ca.cert),
    await x509.SubjectKeyIdentifierExtension.create(request.csr.publicKey, false, cryptoFor(request.keySpec)),
  ];
  const crl = expandUrl(profile.urls.crl, httpBase);
  if (crl) extensions.push(new x509.CRLDistributionPointsExtension([crl]));
  const ocsp = expandUrl(profile.urls.ocsp, httpBase);
  const caIssuers = expandUrl(profile.urls.caIssuers, httpBase);
  if (ocsp || caIssuers) {
    extensions.push(new x509.AuthorityInfoAccessExtension({ ...(ocsp ? { ocsp: [ocsp] } : {}), ...(caIssuers ? { caIssuers: [caIssuers] } : {}) }));
  }
  return extensions;
}
