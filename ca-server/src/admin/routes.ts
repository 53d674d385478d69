import type Koa from 'koa';
import { auditApi } from './api/audit.js';
import { certificateApi, certificateCsv, certificateListApi, renewNowApi, revokeApi } from './api/certificates.js';
import { createDeviceApi, deviceApi, deviceListApi } from './api/devices.js';
import { overviewApi } from './api/overview.js';
import { sessionApi } from './api/session.js';
import { serveAsset } from './assets.js';
import type { AdminContext } from './context.js';
import { enrolPage, enrolSubmit, home, loginPage, loginSubmit, logout, totpPage, totpSubmit } from './login.js';
import { auditPage, certificatesPage, devicePage, devicesPage, overviewPage } from './pages.js';
import type { Role } from '../store/index.js';
import { AUDIT_READERS, CERTIFICATE_OPERATORS, DASHBOARD_READERS } from './roles.js';

/** public: anyone (the login steps check their own stage); signed-in: any role; else exactly these roles. */
export type Access = 'public' | 'signed-in' | readonly Role[];

export type AdminHandler = (admin: AdminContext, ctx: Koa.Context) => Promise<void>;

export interface AdminRoute {
  method: 'GET' | 'POST';
  /** Under /admin, in @koa/router syntax. */
  path: string;
  access: Access;
  /** The first login step has no session yet to hold a CSRF token: only its Origin is checked. */
  originOnly?: true;
  handler: AdminHandler;
}

/**
 * Every admin route and who may use it, in one table. The middleware enforces it before any
 * handler runs, and a test walks it with every role.
 */
export const ADMIN_ROUTES: readonly AdminRoute[] = [
  { method: 'GET', path: '/assets/:file', access: 'public', handler: serveAsset },
  { method: 'GET', path: '/login', access: 'public', handler: loginPage },
  { method: 'POST', path: '/login', access: 'public', originOnly: true, handler: loginSubmit },
  { method: 'GET', path: '/login/totp', access: 'public', handler: totpPage },
  { method: 'POST', path: '/login/totp', access: 'public', handler: totpSubmit },
  { method: 'GET', path: '/login/enrol', access: 'public', handler: enrolPage },
  { method: 'POST', path: '/login/enrol', access: 'public', handler: enrolSubmit },
  { method: 'POST', path: '/logout', access: 'signed-in', handler: logout },
  { method: 'GET', path: '/', access: 'signed-in', handler: home },

  { method: 'GET', path: '/overview', access: DASHBOARD_READERS, handler: overviewPage },
  { method: 'GET', path: '/certificates', access: DASHBOARD_READERS, handler: certificatesPage },
  { method: 'GET', path: '/devices', access: DASHBOARD_READERS, handler: devicesPage },
  { method: 'GET', path: '/devices/:id', access: DASHBOARD_READERS, handler: devicePage },
  { method: 'GET', path: '/audit', access: AUDIT_READERS, handler: auditPage },

  { method: 'GET', path: '/api/session', access: 'signed-in', handler: sessionApi },
  { method: 'GET', path: '/api/overview', access: DASHBOARD_READERS, handler: overviewApi },
  { method: 'GET', path: '/api/certificates', access: DASHBOARD_READERS, handler: certificateListApi },
  { method: 'GET', path: '/api/certificates.csv', access: DASHBOARD_READERS, handler: certificateCsv },
  { method: 'GET', path: '/api/certificates/:serial', access: DASHBOARD_READERS, handler: certificateApi },
  { method: 'POST', path: '/api/certificates/:serial/revoke', access: CERTIFICATE_OPERATORS, handler: revokeApi },
  { method: 'POST', path: '/api/renew-now', access: CERTIFICATE_OPERATORS, handler: renewNowApi },
  { method: 'GET', path: '/api/devices', access: DASHBOARD_READERS, handler: deviceListApi },
  { method: 'GET', path: '/api/devices/:id', access: DASHBOARD_READERS, handler: deviceApi },
  { method: 'POST', path: '/api/devices', access: CERTIFICATE_OPERATORS, handler: createDeviceApi },
  { method: 'GET', path: '/api/audit', access: AUDIT_READERS, handler: auditApi },
];
