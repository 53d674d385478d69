import 'reflect-metadata';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AccessDescription,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityInfoAccessSyntax,
  BasicConstraints,
  Certificate,
  CRLDistributionPoints,
  DistributionPoint,
  DistributionPointName,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyUsage,
  KeyUsageFlags,
  Name as AsnName,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  TBSCertificate,
  Validity,
  Version,
  id_ad_caIssuers,
  id_ad_ocsp,
  id_ce_basicConstraints,
  id_ce_cRLDistributionPoints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_serverAuth,
  id_pe_authorityInfoAccess,
} from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { createHash } from 'node:crypto';
import type { CheckedCsr } from './csr.js';
import type { IssuingCa } from './issuing-ca.js';
import { expandUrl, type Profile } from './profiles.js';
import { describeConstraints, withinConstraints, type Identifier } from './name-constraints.js';
import { BACKDATE_MS } from './ca-certificates.js';
import { randomSerial } from './serial.js';
import { asnExtension, issuerParts, signStructure } from './issuer-parts.js';
import { COMMON_NAME } from './subject.js';
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

/** The signed leaf as built: nothing here comes from parsing it again. */
export interface IssuedLeaf {
  readonly der: Uint8Array<ArrayBuffer>;
  readonly serial: string;
  /** The subject as @peculiar/x509 prints it ("CN=...", or empty). */
  readonly subject: string;
  /** As the certificate carries them: whole seconds. */
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly identifiers: Identifier[];
  readonly spkiSha256: string;
  /** Leaf then issuing CA, PEM: what a device installs as its certificate chain. */
  readonly chainPem: string;
}

const EXTENDED_KEY_USAGES: Record<Profile['extendedKeyUsage'][number], string> = {
  serverAuth: id_kp_serverAuth,
  clientAuth: id_kp_clientAuth,
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
  const issuer = issuerParts(ca.cert, ca.key);
  const serial = randomSerial();
  const subject = leafSubject(identifiers);
  const validity = new Validity({ notBefore: wholeSeconds(notBefore), notAfter: wholeSeconds(notAfter) });
  const tbsCertificate = new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array(Buffer.from(serial, 'hex')).buffer,
    signature: issuer.algorithm,
    issuer: issuer.name,
    validity,
    subject,
    subjectPublicKeyInfo: request.publicKey,
    extensions: leafExtensions(req, identifiers, issuer.aki),
  });
  const signatureValue = signStructure(ca.key, tbsCertificate);
  const der = new Uint8Array(AsnConvert.serialize(new Certificate({ tbsCertificate, signatureAlgorithm: issuer.algorithm, signatureValue })));
  return {
    der,
    serial,
    subject: new x509.Name(subject).toString(),
    notBefore: validity.notBefore.getTime(),
    notAfter: validity.notAfter.getTime(),
    identifiers,
    spkiSha256: createHash('sha256').update(request.spki).digest('hex'),
    chainPem: `${x509.PemConverter.encode(der, 'CERTIFICATE')}\n${issuer.pem}\n`,
  };
}

/** UTCTime and GeneralizedTime carry whole seconds (RFC 5280 s4.1.2.5); the dates reported say what the certificate says. */
function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/**
 * CN is the first DNS name, for tools that still show it. An IP address never goes into CN: OpenSSL
 * checks a CN that looks like a host name against DNS name constraints, and an address would fail.
 * The string type is the one @peculiar/x509's Name picks: PrintableString when it can be one.
 */
function leafSubject(identifiers: Identifier[]): AsnName {
  const dns = identifiers.find((id) => id.type === 'dns');
  if (!dns) return new AsnName([]);
  const value = new AttributeValue(x509.Name.isPrintableString(dns.value) ? { printableString: dns.value } : { utf8String: dns.value });
  return new AsnName([new RelativeDistinguishedName([new AttributeTypeAndValue({ type: COMMON_NAME, value })])]);
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

/**
 * basicConstraints, keyUsage and extendedKeyUsage, the SAN, the AKI, the SKI, the CRL and AIA URLs.
 * Only the SAN and the SKI are made for each leaf; the AKI is the CA's, the others the profile's.
 */
function leafExtensions(req: LeafRequest, identifiers: Identifier[], aki: Extension): Extensions {
  const shared = sharedExtensions(req);
  const { request } = req;
  // RFC 5280 s4.2.1.6: with an empty subject the SAN must be critical.
  const san = new SubjectAlternativeName(identifiers.map((id) => new GeneralName(id.type === 'dns' ? { dNSName: id.value } : { iPAddress: id.value })));
  return new Extensions([
    ...shared.usage,
    asnExtension(id_ce_subjectAltName, san, !identifiers.some((id) => id.type === 'dns')),
    aki,
    // RFC 5280 s4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bits.
    asnExtension(id_ce_subjectKeyIdentifier, new SubjectKeyIdentifier(createHash('sha1').update(new Uint8Array(request.publicKey.subjectPublicKey)).digest())),
    ...shared.urls,
  ]);
}

interface SharedExtensions {
  readonly usage: Extension[];
  readonly urls: Extension[];
}

/** Per profile object, by key kind (RSA adds rsaKeyUsage) and HTTP base (the URL templates). */
const shared = new WeakMap<Profile, Map<string, SharedExtensions>>();

function sharedExtensions({ profile, request, httpBase }: LeafRequest): SharedExtensions {
  let byProfile = shared.get(profile);
  if (!byProfile) shared.set(profile, (byProfile = new Map()));
  const key = `${request.keySpec.kind} ${httpBase ?? ''}`;
  let found = byProfile.get(key);
  if (!found) {
    found = { usage: usageExtensions(profile, request.keySpec.kind), urls: urlExtensions(profile, httpBase) };
    byProfile.set(key, found);
  }
  return found;
}

function usageExtensions(profile: Profile, kind: 'ec' | 'rsa'): Extension[] {
  const usages = [...profile.keyUsage, ...(kind === 'rsa' ? profile.rsaKeyUsage : [])];
  const flags = usages.reduce((acc, u) => acc | KeyUsageFlags[u], 0);
  return [
    asnExtension(id_ce_basicConstraints, new BasicConstraints({ cA: false }), true),
    asnExtension(id_ce_keyUsage, new KeyUsage(flags), true),
    asnExtension(id_ce_extKeyUsage, new ExtendedKeyUsage(profile.extendedKeyUsage.map((e) => EXTENDED_KEY_USAGES[e]))),
  ];
}

function urlExtensions(profile: Profile, httpBase: string | undefined): Extension[] {
  const extensions: Extension[] = [];
  const uri = (url: string) => new GeneralName({ uniformResourceIdentifier: url });
  const crl = expandUrl(profile.urls.crl, httpBase);
  if (crl) {
    const point = new DistributionPoint({ distributionPoint: new DistributionPointName({ fullName: [uri(crl)] }) });
    extensions.push(asnExtension(id_ce_cRLDistributionPoints, new CRLDistributionPoints([point])));
  }
  const ocsp = expandUrl(profile.urls.ocsp, httpBase);
  const caIssuers = expandUrl(profile.urls.caIssuers, httpBase);
  if (ocsp || caIssuers) {
    const access = [
      ...(ocsp ? [new AccessDescription({ accessMethod: id_ad_ocsp, accessLocation: uri(ocsp) })] : []),
      ...(caIssuers ? [new AccessDescription({ accessMethod: id_ad_caIssuers, accessLocation: uri(caIssuers) })] : []),
    ];
    extensions.push(asnExtension(id_pe_authorityInfoAccess, new AuthorityInfoAccessSyntax(access)));
  }
  return extensions;
}

