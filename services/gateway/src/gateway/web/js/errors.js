// Turns API failures into sentences an agent understands, and marks the fields at fault.

import { ApiError } from './api.js';
import { has, t } from './i18n.js';

export function reasonText(reason, detail) {
  if (reason && has(`reason.${reason}`)) return t(`reason.${reason}`);
  return t('reason.unknown', { reason: (typeof detail === 'string' && detail) || reason || '?' });
}

export function fieldLabel(name) {
  return has(`field.${name}`) ? t(`field.${name}`) : name;
}

export function describeError(error) {
  if (!(error instanceof ApiError)) return t('error.other', { status: error?.message ?? '?' });
  switch (error.status) {
    case 0:
      return t('error.network');
    case 401:
      return t('error.401');
    case 403:
      return t('error.403');
    case 404:
      return t('error.404');
    case 409:
      return error.reason ? reasonText(error.reason, error.detail) : t('error.409', { detail: error.detail ?? '' });
    case 413:
      return t('error.413');
    case 422: {
      const fields = error.fields;
      return fields.length ? t('error.422', { fields: fields.map(fieldLabel).join(', ') }) : t('error.422_generic');
    }
    case 502:
    case 503:
    case 504:
      return t('error.503');
    default:
      return t('error.other', { status: error.status });
  }
}

// Marks the inputs named in a 422 as invalid (aria-invalid + a message next to them).
export function markInvalidFields(form, error) {
  clearInvalidFields(form);
  if (!(error instanceof ApiError) || error.status !== 422 || !Array.isArray(error.detail)) return;
  let first = null;
  for (const item of error.detail) {
    const name = Array.isArray(item.loc) ? item.loc.filter((p) => typeof p === 'string' && p !== 'body')[0] : null;
    const input = name && form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!input) continue;
    input.setAttribute('aria-invalid', 'true');
    const message = document.createElement('span');
    message.className = 'field-error';
    message.id = `${input.id || name}-error`;
    message.dataset.testid = 'field-error';
    message.textContent = t('error.field_invalid');
    input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), message.id].filter(Boolean).join(' '));
    input.insertAdjacentElement('afterend', message);
    first ??= input;
  }
  first?.focus();
}

export function clearInvalidFields(form) {
  for (const el of form.querySelectorAll('.field-error')) {
    const input = form.querySelector(`[aria-describedby~="${CSS.escape(el.id)}"]`);
    if (input) {
      const rest = input.getAttribute('aria-describedby').split(' ').filter((id) => id !== el.id);
      if (rest.length) input.setAttribute('aria-describedby', rest.join(' '));
      else input.removeAttribute('aria-describedby');
    }
    el.remove();
  }
  for (const input of form.querySelectorAll('[aria-invalid="true"]')) input.removeAttribute('aria-invalid');
}
