// Log in: username and password for a bearer token.

import { api, session } from '../api.js';
import { h, replace, uid } from '../dom.js';
import { describeError } from '../errors.js';
import { t } from '../i18n.js';
import { loggedIn } from '../main.js';

export function loginPage(ctx) {
  if (session.user) {
    ctx.navigate('/prospects');
    return;
  }
  const userId = uid('username');
  const passId = uid('password');
  const username = h('input', { id: userId, name: 'username', autocomplete: 'username', required: true, 'data-testid': 'login-username' });
  const password = h('input', { id: passId, name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'login-password' });
  const submit = h('button', { type: 'submit', class: 'button primary wide', 'data-testid': 'login-submit' }, t('login.submit'));
  const message = h('div', { class: 'login-message', role: 'alert', 'data-testid': 'login-error' });

  async function send(event) {
    event.preventDefault();
    submit.disabled = true;
    submit.textContent = t('login.busy');
    replace(message);
    try {
      const answer = await api.post('/auth/token', { username: username.value.trim(), password: password.value });
      await loggedIn(answer.access_token, ctx.query.get('next'));
    } catch (error) {
      replace(message, error.status === 401 || error.status === 400 ? t('login.failed') : describeError(error));
      submit.disabled = false;
      submit.textContent = t('login.submit');
      password.select();
    }
  }

  ctx.main.append(
    h(
      'section',
      { class: 'login-card card', 'aria-labelledby': 'login-title' },
      h('h1', { id: 'login-title', tabindex: '-1' }, t('login.title')),
      h(
        'form',
        { class: 'stack', 'data-testid': 'login-form', onsubmit: send },
        h('div', { class: 'field' }, h('label', { for: userId }, t('login.username')), username),
        h('div', { class: 'field' }, h('label', { for: passId }, t('login.password')), password),
        message,
        submit,
      ),
    ),
  );
  username.focus();
}
