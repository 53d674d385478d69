import type { Role } from '../store/index.js';

/**
 * Who may do what (the roles are the users module's): admin everything; operator devices, EAB,
 * revoke, renew-now; viewer the dashboard, read only; auditor the audit trail, read only.
 */
export const DASHBOARD_READERS: readonly Role[] = ['admin', 'operator', 'viewer'];
export const CERTIFICATE_OPERATORS: readonly Role[] = ['admin', 'operator'];
export const AUDIT_READERS: readonly Role[] = ['admin', 'auditor'];
