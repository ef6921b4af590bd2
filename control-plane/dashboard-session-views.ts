import { html } from '../engine/index.ts';
import { page } from './dashboard-views.ts';

/** Name of the hidden field that carries a form's CSRF token (every dashboard form that POSTs has it). */
export const csrfField = 'csrf';

/** The sign-in form: POSTed, so the token never lands in a URL, a history entry, a proxy log or a Referer. */
export function loginPage(now: Date, input: { failed: boolean; csrfToken: string }): string {
  const body = html`<form class="login" method="post" action="/login">
<h1>Sign in</h1>
<input type="hidden" name="${csrfField}" value="${input.csrfToken}">
<label for="token" class="small muted">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
${input.failed ? html`<span class="small error-text">That token is not right.</span>` : ''}
<button type="submit">Sign in</button>
</form>`;
  return page({ title: 'Sign in', section: 'none', now, body });
}

/** Sign out: a POST with the session's CSRF token, so another site cannot sign the operator out. */
export function logoutPage(now: Date, input: { csrfToken: string }): string {
  const body = html`<form class="login" method="post" action="/logout">
<h1>Sign out</h1>
<input type="hidden" name="${csrfField}" value="${input.csrfToken}">
<p class="muted">This ends the dashboard session in this browser.</p>
<button type="submit">Sign out</button>
</form>`;
  return page({ title: 'Sign out', section: 'none', now, body });
}
