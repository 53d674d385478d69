/**
 * What a security event says, whoever records it (ACME side, validator, CRL publisher, CLI,
 * dashboard). The audit log chains these; the ATNA exporter turns each into a DICOM audit message.
 * Nothing here may carry patient data: names of devices and certificates, never of people treated.
 */
export type AuditEventType =
  | 'account.created'
  | 'account.deactivated'
  | 'account.key-changed'
  | 'eab.created'
  | 'eab.used'
  | 'order.created'
  | 'order.refused'
  | 'validation.result'
  | 'certificate.issued'
  | 'certificate.revoked'
  | 'certificate.renew-now'
  | 'login.success'
  | 'login.failure'
  | 'login.locked'
  | 'logout'
  | 'totp.enrolled'
  | 'user.created'
  | 'user.role-changed'
  | 'user.disabled'
  | 'device.created'
  | 'device.updated'
  | 'device.removed'
  | 'config.loaded'
  | 'ca-key.loaded'
  | 'crl.signed'
  | 'audit.checkpoint'
  | 'server.started'
  | 'server.stopped';

export interface AuditActor {
  /** user: a dashboard login; account: an ACME account; cli: an operator's command; system: the server itself. */
  kind: 'user' | 'account' | 'cli' | 'system';
  id: string;
  /** A username or device name, where one is known. */
  name?: string;
}

export interface AuditSubject {
  kind: 'certificate' | 'account' | 'order' | 'authorization' | 'eab' | 'device' | 'user' | 'crl' | 'config' | 'ca' | 'audit';
  id: string;
}

export interface AuditEvent {
  type: AuditEventType;
  outcome: 'success' | 'failure';
  actor: AuditActor;
  /** Where the request came from: the peer's IP address, or the host name for local commands. */
  source?: string;
  subject?: AuditSubject;
  /** Short facts (profile, reason, identifiers, error type); bounded by the recorder. */
  details?: Record<string, string | number | boolean | null | string[]>;
}

/** Appends an event to the tamper-evident trail. Resolves once the entry is stored. */
export interface AuditRecorder {
  record(event: AuditEvent): Promise<void>;
}
