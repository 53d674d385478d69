import type { AuditEventType } from './event.js';

/** A DICOM coded value (DCID 400/401 codes, scheme DCM) as PS3.15 A.5 writes it. */
export interface Code {
  code: string;
  display: string;
}

const dcm = (code: string, display: string): Code => ({ code, display });

const APPLICATION_ACTIVITY = dcm('110100', 'Application Activity');
const AUDIT_LOG_USED = dcm('110101', 'Audit Log Used');
const SECURITY_ALERT = dcm('110113', 'Security Alert');
const USER_AUTHENTICATION = dcm('110114', 'User Authentication');

const APPLICATION_START = dcm('110120', 'Application Start');
const APPLICATION_STOP = dcm('110121', 'Application Stop');
const LOGIN = dcm('110122', 'Login');
const LOGOUT = dcm('110123', 'Logout');
const NODE_AUTHENTICATION = dcm('110126', 'Node Authentication');
const NETWORK_CONFIGURATION = dcm('110128', 'Network Configuration');
const SECURITY_CONFIGURATION = dcm('110129', 'Security Configuration');
const SOFTWARE_CONFIGURATION = dcm('110131', 'Software Configuration');
const USE_OF_RESTRICTED_FUNCTION = dcm('110132', 'Use of Restricted Function');
const SECURITY_ROLES_CHANGED = dcm('110136', 'Security Roles Changed');
const USER_SECURITY_ATTRIBUTES_CHANGED = dcm('110137', 'User security Attributes Changed');

/** EventActionCode: Create, Read, Update, Delete, Execute (PS3.15 A.5.2). */
export type ActionCode = 'C' | 'R' | 'U' | 'D' | 'E';

export interface AtnaMapping {
  eventId: Code;
  eventType?: Code;
  action: ActionCode;
}

const m = (eventId: Code, eventType: Code | undefined, action: ActionCode): AtnaMapping => ({ eventId, ...(eventType ? { eventType } : {}), action });

/**
 * How each Wardcert event reads to an Audit Record Repository. PS3.15 has no certificate events:
 * as dcm4chee-arc does for security changes, they are Security Alerts whose type says what changed
 * (certificates, CRLs and the CA key are Security Configuration). A design choice, documented in
 * the README.
 */
const MAPPINGS: Partial<Record<AuditEventType, AtnaMapping>> = {
  'account.created': m(SECURITY_ALERT, USER_SECURITY_ATTRIBUTES_CHANGED, 'C'),
  'account.deactivated': m(SECURITY_ALERT, USER_SECURITY_ATTRIBUTES_CHANGED, 'D'),
  'account.key-changed': m(SECURITY_ALERT, USER_SECURITY_ATTRIBUTES_CHANGED, 'U'),
  'eab.created': m(SECURITY_ALERT, USER_SECURITY_ATTRIBUTES_CHANGED, 'C'),
  'eab.used': m(USER_AUTHENTICATION, LOGIN, 'E'),
  'order.created': m(SECURITY_ALERT, USE_OF_RESTRICTED_FUNCTION, 'C'),
  'order.refused': m(SECURITY_ALERT, USE_OF_RESTRICTED_FUNCTION, 'C'),
  'validation.result': m(USER_AUTHENTICATION, NODE_AUTHENTICATION, 'E'),
  'certificate.issued': m(SECURITY_ALERT, SECURITY_CONFIGURATION, 'C'),
  'certificate.revoked': m(SECURITY_ALERT, SECURITY_CONFIGURATION, 'D'),
  'certificate.renew-now': m(SECURITY_ALERT, SECURITY_CONFIGURATION, 'U'),
  'login.success': m(USER_AUTHENTICATION, LOGIN, 'E'),
  'login.failure': m(USER_AUTHENTICATION, LOGIN, 'E'),
  'login.locked': m(SECURITY_ALERT, LOGIN, 'E'),
  logout: m(USER_AUTHENTICATION, LOGOUT, 'E'),
  'totp.enrolled': m(SECURITY_ALERT, USER_SECURITY_ATTRIBUTES_CHANGED, 'C'),
  'user.created': m(SECURITY_ALERT, USER_SECURITY_ATTRIBUTES_CHANGED, 'C'),
  'user.role-changed': m(SECURITY_ALERT, SECURITY_ROLES_CHANGED, 'U'),
  'user.disabled': m(SECURITY_ALERT, USER_SECURITY_ATTRIBUTES_CHANGED, 'D'),
  'device.created': m(SECURITY_ALERT, NETWORK_CONFIGURATION, 'C'),
  'device.updated': m(SECURITY_ALERT, NETWORK_CONFIGURATION, 'U'),
  'device.removed': m(SECURITY_ALERT, NETWORK_CONFIGURATION, 'D'),
  'config.loaded': m(SECURITY_ALERT, SOFTWARE_CONFIGURATION, 'R'),
  'ca-key.loaded': m(SECURITY_ALERT, SECURITY_CONFIGURATION, 'R'),
  'crl.signed': m(SECURITY_ALERT, SECURITY_CONFIGURATION, 'C'),
  'audit.checkpoint': m(AUDIT_LOG_USED, undefined, 'E'),
  'server.started': m(APPLICATION_ACTIVITY, APPLICATION_START, 'E'),
  'server.stopped': m(APPLICATION_ACTIVITY, APPLICATION_STOP, 'E'),
};

/** An event type added later without a mapping still goes out, as a plain Security Alert. */
const FALLBACK = m(SECURITY_ALERT, undefined, 'E');

export function atnaMapping(type: AuditEventType): AtnaMapping {
  return MAPPINGS[type] ?? FALLBACK;
}
