// Status badges: always a colour AND a word, never colour alone.

import { h } from './dom.js';
import { t } from './i18n.js';

export const UNIT_STATUSES = ['available', 'booked', 'reserved', 'sold'];

export function unitBadge(status) {
  return h('span', { class: `badge unit-${status}`, 'data-testid': 'unit-status', 'data-status': status }, t(`unit.status.${status}`));
}

export function setUnitBadge(badge, status) {
  badge.className = `badge unit-${status}`;
  badge.dataset.status = status;
  badge.textContent = t(`unit.status.${status}`);
}

export function prospectBadge(status) {
  return h('span', { class: `badge prospect-${status}`, 'data-testid': 'prospect-status', 'data-status': status }, t(`prospect.status.${status}`));
}

export function bookingBadge(status) {
  return h('span', { class: `badge booking-${status}`, 'data-testid': 'booking-status', 'data-status': status }, t(`booking.status.${status}`));
}

export function setBookingBadge(badge, status) {
  badge.className = `badge booking-${status}`;
  badge.dataset.status = status;
  badge.textContent = t(`booking.status.${status}`);
}
