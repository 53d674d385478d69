import type { Role, User } from '../../store/index.js';
import { html, type Html } from '../html.js';
import { AUDIT_READERS, DASHBOARD_READERS } from '../roles.js';

export interface Chrome {
  user?: User;
  csrfToken?: string;
  /** The nav entry to mark as the current page. */
  active?: string;
}

const NAV: { href: string; label: string; roles: readonly Role[] }[] = [
  { href: '/admin/overview', label: 'Overview', roles: DASHBOARD_READERS },
  { href: '/admin/certificates', label: 'Certificates', roles: DASHBOARD_READERS },
  { href: '/admin/devices', label: 'Devices', roles: DASHBOARD_READERS },
  { href: '/admin/audit', label: 'Audit trail', roles: AUDIT_READERS },
];

/** The page shell: language, skip link, navigation for the user's role, sign-out form, one main landmark. */
export function layout(title: string, chrome: Chrome, body: Html): Html {
  const user = chrome.user;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${chrome.csrfToken ? html`<meta name="csrf-token" content="${chrome.csrfToken}">` : ''}
<title>${title} · Wardcert</title>
<link rel="stylesheet" href="/admin/assets/app.css">
<script type="module" src="/admin/assets/app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">Wardcert</span>
  ${user
    ? html`<nav aria-label="Main"><ul>${NAV.filter((n) => n.roles.includes(user.role)).map(
        (n) => html`<li><a href="${n.href}"${n.label === chrome.active ? html` aria-current="page"` : ''}>${n.label}</a></li>`,
      )}</ul></nav>
  <form class="signout" method="post" action="/admin/logout">
    <input type="hidden" name="_csrf" value="${chrome.csrfToken}">
    ${user.totpEnrolledAt === null ? html`<a class="enrol" href="/admin/login/enrol">Set up two-factor sign-in</a>` : ''}
    <span class="who">${user.username} <span class="role">${user.role}</span></span>
    <button type="submit">Sign out</button>
  </form>`
    : ''}
</header>
<main id="main" tabindex="-1">
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`;
}

/** Dates as the ward reads them: UTC, to the minute, unambiguous. */
export const when = (d: Date | string | null | undefined): string => (d ? `${shortWhen(d)} UTC` : '');

/** The same without the zone, for table cells under a heading that names it. */
export const shortWhen = (d: Date | string): string => (typeof d === 'string' ? new Date(d) : d).toISOString().slice(0, 16).replace('T', ' ');

/** "in 3 h", "2 d ago": how far a moment is from now. */
export function relative(d: Date, now: Date): string {
  const ms = d.getTime() - now.getTime();
  const abs = Math.abs(ms);
  const text = abs < 3_600_000 ? `${Math.round(abs / 60_000)} min` : abs < 172_800_000 ? `${Math.round(abs / 3_600_000)} h` : `${Math.round(abs / 86_400_000)} d`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}
