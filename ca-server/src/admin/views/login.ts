import { html, trusted, type Html } from '../html.js';

export interface LoginFormOptions {
  notice?: string | undefined;
  username?: string;
}

/** Step one, a plain form: password managers and screen readers know these fields. */
export function loginForm(o: LoginFormOptions = {}): Html {
  return html`
${o.notice ? html`<p class="notice error" role="alert">${o.notice}</p>` : ''}
<form class="card login" method="post" action="/admin/login">
  <p>
    <label for="username">Username</label>
    <input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="64" value="${o.username ?? ''}" autofocus>
  </p>
  <p>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
  </p>
  <p><button type="submit" class="primary">Continue</button></p>
</form>`;
}

/** Step two: the code from the authenticator app. */
export function totpForm(csrfToken: string, notice?: string): Html {
  return html`
${notice ? html`<p class="notice error" role="alert">${notice}</p>` : ''}
<form class="card login" method="post" action="/admin/login/totp">
  <input type="hidden" name="_csrf" value="${csrfToken}">
  <p>
    <label for="code">Six-digit code from your authenticator app</label>
    <input id="code" name="code" type="text" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" required autofocus>
  </p>
  <p><button type="submit" class="primary">Sign in</button></p>
</form>`;
}

/** Enrolment: the QR code (an SVG made by the server), the secret as text, and a first code to prove it works. */
export function enrolForm(o: { csrfToken: string; qrSvg: string; secret: string; required: boolean; notice?: string | undefined }): Html {
  return html`
${o.notice ? html`<p class="notice error" role="alert">${o.notice}</p>` : ''}
<div class="card login">
  <p>${o.required ? 'Your role signs in with a second factor. ' : ''}Scan this code with an authenticator app, or type the secret into it.</p>
  <figure class="qr" role="img" aria-label="QR code holding the TOTP secret">${trusted(o.qrSvg)}</figure>
  <p>Secret: <code class="secret">${o.secret.replace(/(.{4})/g, '$1 ').trim()}</code></p>
  <form method="post" action="/admin/login/enrol">
    <input type="hidden" name="_csrf" value="${o.csrfToken}">
    <p>
      <label for="code">Code the app shows now</label>
      <input id="code" name="code" type="text" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" required autofocus>
    </p>
    <p><button type="submit" class="primary">Confirm and sign in</button></p>
  </form>
</div>`;
}
