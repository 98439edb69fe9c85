// Short outcome messages, announced to screen readers through an aria-live region.

import { h } from './dom.js';
import { t } from './i18n.js';

function region() {
  return document.getElementById('notices');
}

export function notify(message, kind = 'info') {
  const root = region();
  if (!root) return;
  const item = h(
    'div',
    { class: `notice notice-${kind}`, 'data-testid': `notice-${kind}` },
    h('span', {}, message),
    h('button', { type: 'button', class: 'icon-button', 'aria-label': t('action.close'), onclick: () => item.remove() }, '✕'),
  );
  root.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 12000 : 6000);
}

// An inline message inside a page section (role=alert for errors, status otherwise).
export function inlineMessage(message, kind = 'error', testid = 'inline-message') {
  return h('p', { class: `inline-message inline-${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': testid }, message);
}
