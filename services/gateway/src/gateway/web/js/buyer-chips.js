// A unit's buyers as chips; ✕ removes one buyer from the unit's booking.

import { api, canWrite } from './api.js';
import { confirmDialog } from './dialog.js';
import { fullName, h } from './dom.js';
import { describeError } from './errors.js';
import { t } from './i18n.js';
import { notify } from './notices.js';

// The buyers service's view of who holds a unit, with the ids the ✕ needs.
export async function buyersOfUnit(unitId) {
  const page = await api.get('/buyers', { unit_id: unitId, limit: 100 });
  return page.items
    .map((buyer) => ({ ...buyer, link: buyer.units.find((u) => u.unit_id === unitId) }))
    .filter((buyer) => buyer.link);
}

// `buyers`: [{buyer_id | id, first_name, last_name, prospect_id?, link?}]
export function buyerChips({ unit, buyers, onChanged }) {
  if (!buyers.length) return h('span', { class: 'muted', 'data-testid': 'no-buyers' }, '–');
  return h(
    'ul',
    { class: 'chips', 'data-testid': 'buyer-chips' },
    buyers.map((buyer) => {
      const name = fullName(buyer);
      const buyerId = buyer.buyer_id ?? buyer.id;
      return h(
        'li',
        { class: 'chip', 'data-testid': 'buyer-chip', 'data-buyer-id': buyerId },
        buyer.prospect_id ? h('a', { href: `#/prospects/${buyer.prospect_id}` }, name) : h('span', {}, name),
        canWrite()
          ? h(
              'button',
              {
                type: 'button',
                class: 'chip-remove',
                'aria-label': t('units.remove_buyer', { name }),
                title: t('units.remove_buyer', { name }),
                'data-testid': 'buyer-chip-remove',
                'data-focus-key': `chip-${unit.id}-${buyerId}`,
                onclick: () => removeBuyer(unit, buyer, buyers.length, onChanged),
              },
              '✕',
            )
          : null,
      );
    }),
  );
}

async function removeBuyer(unit, buyer, count, onChanged) {
  const name = fullName(buyer);
  const sure = await confirmDialog({
    message: t('units.remove_buyer_q', { name, unit: unit.name }),
    details: count <= 1 ? h('p', { class: 'hint' }, t('units.remove_buyer_last')) : null,
    confirmLabel: t('action.remove'),
    testid: 'remove-buyer-dialog',
    danger: true,
  });
  if (!sure) return;
  try {
    let prospectId = buyer.prospect_id;
    let bookingId = buyer.link?.booking_id;
    if (!prospectId || !bookingId) {
      // The unit's own list knows only names: ask the buyers service who this is.
      const match = (await buyersOfUnit(unit.id)).find((b) => b.id === (buyer.buyer_id ?? buyer.id));
      prospectId = match?.prospect_id;
      bookingId = match?.link?.booking_id ?? unit.booking_ids?.[0];
    }
    if (!prospectId || !bookingId) {
      notify(t('error.404'), 'error');
      return;
    }
    await api.del(`/bookings/${bookingId}/buyers/${prospectId}`);
    notify(t('units.buyer_removed', { name }), 'success');
    onChanged?.();
  } catch (error) {
    notify(describeError(error), 'error');
  }
}
