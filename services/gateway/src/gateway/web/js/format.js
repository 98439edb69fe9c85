// Numbers and dates the way the reader's language writes them.

import { lang, locale } from './i18n.js';

const DASH = '–';

export function money(value) {
  if (value === null || value === undefined) return DASH;
  return `${new Intl.NumberFormat(locale(), { maximumFractionDigits: 0 }).format(value)} ${lang() === 'sv' ? 'kr' : 'SEK'}`;
}

export function area(value) {
  if (value === null || value === undefined) return DASH;
  return `${new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(value)} m²`;
}

export function number(value) {
  if (value === null || value === undefined) return DASH;
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(value);
}

export function dateTime(value) {
  if (!value) return DASH;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'short', timeStyle: 'medium' }).format(date);
}

export function text(value) {
  return value === null || value === undefined || value === '' ? DASH : String(value);
}
