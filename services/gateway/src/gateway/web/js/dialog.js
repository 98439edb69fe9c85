// Modal dialogs: focus moves in, stays in (Tab wraps), Esc closes, focus returns to the opener.

import { h, uid } from './dom.js';
import { t } from './i18n.js';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

function focusables(root) {
  return [...root.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null || el === document.activeElement);
}

export function openDialog({ title, testid, body = [], actions = [], onClose, initialFocus, wide = false }) {
  const opener = document.activeElement;
  const titleId = uid('dialog-title');
  const content = h('div', { class: 'dialog-body' }, body);
  const footer = h('div', { class: 'dialog-actions' }, actions);
  const closeButton = h('button', { type: 'button', class: 'icon-button dialog-close', 'aria-label': t('action.close'), 'data-testid': 'dialog-close', onclick: () => close() }, '✕');
  const dialog = h(
    'dialog',
    { class: ['dialog', wide && 'dialog-wide'], 'aria-labelledby': titleId, 'aria-modal': 'true', 'data-testid': testid },
    h('div', { class: 'dialog-head' }, h('h2', { id: titleId }, title), closeButton),
    content,
    footer,
  );
  let closed = false;

  function close(result) {
    if (closed) return;
    closed = true;
    dialog.close();
    dialog.remove();
    if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
    onClose?.(result);
  }

  dialog.addEventListener('cancel', (event) => {
    event.preventDefault(); // Esc: close our way so focus goes back to the opener
    close();
  });
  dialog.addEventListener('keydown', (event) => {
    if (event.key !== 'Tab') return;
    const items = focusables(dialog);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      first.focus();
    }
  });

  document.body.append(dialog);
  dialog.showModal();
  const target = (typeof initialFocus === 'function' ? initialFocus() : initialFocus) ?? focusables(content)[0] ?? focusables(footer)[0] ?? closeButton;
  target.focus();

  return { dialog, content, footer, close, isOpen: () => !closed };
}

// Asks a yes/no question; resolves true when confirmed.
export function confirmDialog({ title = t('confirm.title'), message, details = [], confirmLabel = t('action.ok'), testid = 'confirm-dialog', danger = false }) {
  return new Promise((resolve) => {
    let answer = false;
    const yes = h('button', { type: 'button', class: ['button', danger ? 'danger' : 'primary'], 'data-testid': `${testid}-ok`, onclick: () => { answer = true; ref.close(); } }, confirmLabel);
    const no = h('button', { type: 'button', class: 'button', 'data-testid': `${testid}-cancel`, onclick: () => ref.close() }, t('action.cancel'));
    const ref = openDialog({
      title,
      testid,
      body: [h('p', {}, message), details],
      actions: [no, yes],
      initialFocus: yes,
      onClose: () => resolve(answer),
    });
  });
}
