import { XMLBuilder } from 'fast-xml-parser';
import { isIP } from 'node:net';
import type { AuditEntry } from '../store/index.js';
import { atnaMapping, type Code } from './atna-codes.js';
import type { AuditActor, AuditSubject } from './event.js';

/** Characters XML 1.0 cannot carry at all, escaped or not (controls, lone surrogates, U+FFFE/FFFF). */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Who the message says is speaking: the CA on this host. */
export interface AtnaSource {
  /** AuditSourceID, e.g. wardcert-ca@ca1.hospital.example. */
  sourceId: string;
  hostname: string;
}

// suppressBooleanAttributes would write UserIsRequestor="true" as a bare attribute, which is not XML.
const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', suppressEmptyNode: true, suppressBooleanAttributes: false });

const dcmCode = (c: Code) => ({ '@csd-code': c.code, '@codeSystemName': 'DCM', '@originalText': c.display });
/** Local codes carry the "99" prefix DICOM reserves for private coding schemes. */
const localCode = (code: string, text: string) => ({ '@csd-code': code, '@codeSystemName': '99WARDCERT', '@originalText': text });

/** RFC 3881 ParticipantObjectTypeCodeRole by what the subject is. */
const SUBJECT_ROLE: Record<AuditSubject['kind'], { type: number; role: number; text: string }> = {
  certificate: { type: 2, role: 13, text: 'certificate serial number' },
  account: { type: 2, role: 11, text: 'ACME account' },
  order: { type: 2, role: 20, text: 'ACME order' },
  authorization: { type: 2, role: 20, text: 'ACME authorization' },
  eab: { type: 2, role: 13, text: 'EAB key identifier' },
  device: { type: 2, role: 4, text: 'device' },
  user: { type: 1, role: 11, text: 'dashboard user' },
  crl: { type: 2, role: 13, text: 'CRL (issuer key id and number)' },
  config: { type: 2, role: 13, text: 'configuration file' },
  ca: { type: 2, role: 13, text: 'issuing CA key identifier' },
  audit: { type: 2, role: 13, text: 'audit trail entry' },
};

/** NetworkAccessPointTypeCode: 1 machine name, 2 IP address. */
const accessPoint = (where: string) => ({ '@NetworkAccessPointID': where, '@NetworkAccessPointTypeCode': isIP(where) ? '2' : '1' });

function requestor(actor: AuditActor, source: string | undefined) {
  return {
    '@UserID': actor.id,
    ...(actor.name !== undefined ? { '@UserName': actor.name } : {}),
    '@UserIsRequestor': 'true',
    ...(source ? accessPoint(source) : {}),
    RoleIDCode: localCode(actor.kind, `${actor.kind} that caused the event`),
  };
}

function application(src: AtnaSource) {
  return {
    '@UserID': 'wardcert-ca',
    '@AlternativeUserID': String(process.pid),
    '@UserIsRequestor': 'false',
    ...accessPoint(src.hostname),
    RoleIDCode: dcmCode({ code: '110150', display: 'Application' }),
  };
}

/** Details as ParticipantObjectDetail pairs; the schema types their values as base64. */
function objectDetails(e: AuditEntry) {
  const pairs: [string, string][] = [
    ['wardcert-event', e.type],
    ['wardcert-audit-seq', String(e.seq)],
    ['wardcert-audit-hash', e.hash],
    ...Object.entries(e.details ?? {}).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  ];
  return pairs.map(([type, value]) => ({ '@type': type, '@value': Buffer.from(value, 'utf8').toString('base64') }));
}

/**
 * The entry as a DICOM PS3.15 A.5 audit message (the schema derived from RFC 3881), elements in
 * the schema's order. Every value is escaped by the XML builder.
 */
export function atnaMessage(e: AuditEntry, src: AtnaSource): string {
  const map = atnaMapping(e.type);
  const subject = e.subject ?? { kind: 'audit' as const, id: String(e.seq) };
  const role = SUBJECT_ROLE[subject.kind];
  const message = {
    AuditMessage: {
      EventIdentification: {
        '@EventActionCode': map.action,
        '@EventDateTime': e.at.toISOString(),
        // 0 success, 4 minor failure: a refusal is the CA working as meant, not a breakdown.
        '@EventOutcomeIndicator': e.outcome === 'success' ? '0' : '4',
        EventID: dcmCode(map.eventId),
        ...(map.eventType ? { EventTypeCode: dcmCode(map.eventType) } : {}),
      },
      ActiveParticipant: e.actor.kind === 'system' ? [requestor(e.actor, e.source)] : [requestor(e.actor, e.source), application(src)],
      AuditSourceIdentification: {
        '@AuditSourceID': src.sourceId,
        AuditSourceTypeCode: { '@csd-code': '4', '@codeSystemName': 'DCM', '@originalText': 'Application Server Process' },
      },
      ParticipantObjectIdentification: {
        '@ParticipantObjectID': subject.id,
        '@ParticipantObjectTypeCode': String(role.type),
        '@ParticipantObjectTypeCodeRole': String(role.role),
        ParticipantObjectIDTypeCode: localCode(subject.kind, role.text),
        ParticipantObjectDetail: objectDetails(e),
      },
    },
  };
  return `<?xml version="1.0" encoding="UTF-8"?>${builder.build(message) as string}`.replace(NOT_XML, '\uFFFD');
}
