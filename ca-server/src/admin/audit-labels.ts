import type { AuditEventType } from '../audit/event.js';

/**
 * What each event type is called in the audit view's filter. Typed against the union, so a new
 * event type fails the build until it has a label here.
 */
export const AUDIT_EVENT_LABELS: Record<AuditEventType, string> = {
  'account.created': 'ACME account created',
  'account.deactivated': 'ACME account deactivated',
  'account.key-changed': 'ACME account key changed',
  'eab.created': 'EAB credential created',
  'eab.used': 'EAB credential used',
  'order.created': 'Order created',
  'order.refused': 'Order refused',
  'validation.result': 'Challenge validated',
  'certificate.issued': 'Certificate issued',
  'certificate.revoked': 'Certificate revoked',
  'certificate.renew-now': 'Renew-now',
  'login.success': 'Login',
  'login.failure': 'Login failed',
  'login.locked': 'Login locked',
  logout: 'Logout',
  'totp.enrolled': 'Two-factor enrolled',
  'user.created': 'User created',
  'user.role-changed': 'Role changed',
  'user.disabled': 'User disabled',
  'device.created': 'Device created',
  'device.updated': 'Device changed',
  'device.removed': 'Device removed',
  'config.loaded': 'Configuration loaded',
  'ca-key.loaded': 'CA key loaded',
  'crl.signed': 'CRL signed',
  'audit.checkpoint': 'Audit checkpoint',
  'server.started': 'Server started',
  'server.stopped': 'Server stopped',
};
