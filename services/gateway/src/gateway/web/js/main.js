// Boot, hash routing and the header. Each page is a function that renders into <main>
// and registers its own clean-up (live subscriptions) on the context it is given.

import { api, onUnauthorized, session, setToken } from './api.js';
import { h, replace } from './dom.js';
import { lang, onLangChange, setLang, t } from './i18n.js';
import { liveState, on as onLive, startLive, stopLive } from './live.js';
import { describeError } from './errors.js';
import { notify } from './notices.js';
import { buyersPage } from './pages/buyers.js';
import { loginPage } from './pages/login.js';
import { prospectCardPage } from './pages/prospect-card.js';
import { prospectsPage } from './pages/prospects.js';
import { unitCardPage } from './pages/unit-card.js';
import { unitsPage } from './pages/units.js';

const ID = '([0-9a-fA-F-]{36})';
const routes = [
  { pattern: /^\/login$/, page: loginPage },
  { pattern: /^\/prospects$/, page: prospectsPage, nav: 'prospects' },
  { pattern: new RegExp(`^/prospects/${ID}$`), page: prospectCardPage, nav: 'prospects' },
  { pattern: /^\/units$/, page: unitsPage, nav: 'units' },
  { pattern: new RegExp(`^/units/${ID}$`), page: unitCardPage, nav: 'units' },
  { pattern: /^\/buyers$/, page: buyersPage, nav: 'buyers' },
];

const header = document.getElementById('topbar');
const main = document.getElementById('main');
let disposers = [];
let lastPath = null;

export function navigate(path, query = {}) {
  const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  const target = `#${path}${params.toString() ? `?${params}` : ''}`;
  if (window.location.hash === target) render();
  else window.location.hash = target;
}

function currentRoute() {
  const raw = window.location.hash.replace(/^#/, '') || '/prospects';
  const [path, search = ''] = raw.split('?');
  return { path, query: new URLSearchParams(search) };
}

function dispose() {
  for (const fn of disposers) fn();
  disposers = [];
}

function render() {
  // A search or filter re-renders its own page: the agent keeps typing where they were.
  const focused = main.contains(document.activeElement) ? document.activeElement?.dataset?.testid : null;
  dispose();
  document.getElementById('skip-link').textContent = t('app.skip');
  const { path, query } = currentRoute();
  if (!session.token && path !== '/login') {
    navigate('/login', { next: window.location.hash.replace(/^#/, '') });
    return;
  }
  const route = routes.find((r) => r.pattern.test(path));
  renderHeader(route?.nav);
  const ctx = {
    main,
    query,
    params: route ? path.match(route.pattern).slice(1) : [],
    navigate,
    alive: true,
    onDispose: (fn) => disposers.push(fn),
    live: (type, fn) => disposers.push(onLive(type, fn)),
  };
  disposers.push(() => (ctx.alive = false));
  replace(main);
  if (!route) {
    main.append(h('h1', {}, t('app.not_found')), h('p', {}, h('a', { href: '#/prospects' }, t('app.back_to_start'))));
  } else {
    route.page(ctx);
  }
  // Move focus to the new page's heading when the page changed, as screen readers expect.
  if (lastPath !== null && lastPath !== path) main.querySelector('h1')?.focus();
  else if (focused) main.querySelector(`[data-testid="${CSS.escape(focused)}"]`)?.focus();
  lastPath = path;
}

function liveIndicator() {
  const el = h('span', { class: 'live-indicator', 'data-testid': 'live-indicator', role: 'status' });
  const draw = (state) => {
    el.dataset.state = state;
    el.title = state === 'live' ? t('live.live_title') : t('live.down_title');
    replace(el, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), t(`live.${state}`));
  };
  draw(liveState());
  disposers.push(onLive('state', draw));
  return el;
}

function renderHeader(active) {
  const langButton = h(
    'button',
    { type: 'button', class: 'button ghost small', lang: lang() === 'sv' ? 'en' : 'sv', 'aria-label': t('lang.switch_label'), 'data-testid': 'lang-toggle', onclick: () => setLang(lang() === 'sv' ? 'en' : 'sv') },
    t('lang.switch'),
  );
  const brand = h('a', { class: 'brand', href: '#/prospects' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'N'), t('app.name'));
  if (!session.user) {
    replace(header, h('div', { class: 'topbar-inner' }, brand, h('div', { class: 'topbar-tools' }, langButton)));
    return;
  }
  const link = (name, href) =>
    h('a', { href, class: 'nav-link', 'aria-current': active === name ? 'page' : null, 'data-testid': `nav-${name}` }, t(`nav.${name}`));
  replace(
    header,
    h(
      'div',
      { class: 'topbar-inner' },
      brand,
      h('nav', { class: 'main-nav', 'aria-label': t('nav.label') }, link('prospects', '#/prospects'), link('units', '#/units'), link('buyers', '#/buyers')),
      h(
        'div',
        { class: 'topbar-tools' },
        liveIndicator(),
        langButton,
        h(
          'span',
          { class: 'user', 'data-testid': 'current-user', 'data-role': session.user.role },
          h('span', { class: 'sr-only' }, `${t('user.label')} `),
          h('strong', { 'data-testid': 'current-username' }, session.user.username),
          h('span', { class: 'role', 'data-testid': 'current-role' }, t(`role.${session.user.role}`)),
        ),
        h('button', { type: 'button', class: 'button ghost small', 'data-testid': 'logout', onclick: logout }, t('logout')),
      ),
    ),
  );
}

export function logout(message) {
  setToken(null);
  session.user = null;
  stopLive();
  navigate('/login');
  if (typeof message === 'string') notify(message, 'error');
}

export async function loggedIn(token, next) {
  setToken(token);
  session.user = await api.get('/auth/me');
  startLive();
  window.location.hash = next && next !== '/login' ? `#${next}` : '#/prospects';
}

async function boot() {
  onUnauthorized(() => {
    if (session.token) logout(t('login.again'));
  });
  onLangChange(() => render());
  window.addEventListener('hashchange', render);
  document.getElementById('skip-link').addEventListener('click', (event) => {
    event.preventDefault(); // a plain #main link would be taken for a route
    main.focus();
  });
  await restoreSession();
}

// A stored token is tried once; when the gateway cannot answer, the agent can retry
// without logging in again.
async function restoreSession() {
  if (session.token) {
    try {
      session.user = await api.get('/auth/me');
      startLive();
    } catch (error) {
      if (error.status === 401) {
        setToken(null);
      } else {
        renderHeader();
        replace(
          main,
          h('h1', { tabindex: '-1' }, t('app.name')),
          h('p', { role: 'alert', 'data-testid': 'boot-error' }, describeError(error)),
          h('button', { type: 'button', class: 'button primary', onclick: restoreSession }, t('action.retry')),
        );
        return;
      }
    }
  }
  render();
}

boot();
