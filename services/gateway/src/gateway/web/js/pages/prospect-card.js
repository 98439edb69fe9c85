// Kundkort: contact data, Intresse with BOKA, the prospect's bookings, and BOKA OBJEKT.

import { api, canWrite } from '../api.js';
import { bookUnit, cancelDialog } from '../booking.js';
import { COLUMN_CLASS, PAGE_SIZE, field, loadAllUnits, loadProjects, pager, unitPicker } from '../components.js';
import { openDialog } from '../dialog.js';
import { fullName, h, keepFocus, replace, throttle, uid } from '../dom.js';
import { clearInvalidFields, describeError, markInvalidFields, reasonText } from '../errors.js';
import { area, money, number, text } from '../format.js';
import { t } from '../i18n.js';
import { knownBookingStatus, knownUnitStatus } from '../live.js';
import { inlineMessage, notify } from '../notices.js';
import { bookingBadge, prospectBadge, setBookingBadge, setUnitBadge, unitBadge } from '../status.js';

export function prospectCardPage(ctx) {
  const [prospectId] = ctx.params;
  const writer = canWrite();
  let card = null;
  let projects = new Map();
  let availableOffset = 0;
  let availableProject = '';
  let editing = false;

  const title = h('h1', { tabindex: '-1', 'data-testid': 'prospect-name' }, t('app.loading'));
  const statusSlot = h('span', { class: 'title-badge' });
  const contact = h('div', { class: 'section-body' });
  const interests = h('div', { class: 'section-body' });
  const bookings = h('div', { class: 'section-body' });
  const available = h('div', { class: 'section-body' });
  const projectId = uid('available-project');
  const projectSelect = h('select', { id: projectId, 'data-testid': 'available-filter-project', onchange: () => { availableProject = projectSelect.value; availableOffset = 0; loadAvailable(); } });

  const section = (id, heading, body, ...tools) =>
    h('section', { class: 'card section', 'aria-labelledby': id, 'data-testid': `section-${id}` }, h('div', { class: 'section-head' }, h('h2', { id }, heading), tools), body);

  const page = h(
    'div',
    { class: 'prospect-card', 'data-testid': 'prospect-card', 'data-prospect-id': prospectId },
    h('p', { class: 'crumbs' }, h('a', { href: '#/prospects', 'data-testid': 'back-to-prospects' }, `‹ ${t('card.back')}`)),
    h('div', { class: 'page-head' }, title, statusSlot),
    h(
      'div',
      { class: 'card-grid' },
      section('contact', t('card.contact'), contact, writer ? h('button', { type: 'button', class: 'button small', 'data-testid': 'contact-edit', onclick: () => { editing = true; drawContact(); } }, t('action.edit')) : null),
      section('interest', t('card.interest'), interests, writer ? h('button', { type: 'button', class: 'button small', 'data-testid': 'interest-edit', onclick: editInterests }, t('card.interest_edit')) : null),
    ),
    section('bookings', t('card.bookings'), bookings),
    section('book-units', t('card.book_units'), h('div', {}, h('p', { class: 'hint' }, t('card.book_units_hint')), h('div', { class: 'toolbar' }, h('div', { class: 'field' }, h('label', { for: projectId }, t('units.filter_project')), projectSelect)), available)),
  );
  ctx.main.append(page);

  // ---- loading -------------------------------------------------------------------------

  // Why a booking was rejected: the card lists bookings without it, the bookings list has it.
  const reasons = new Map();

  async function loadReasons() {
    const unknown = card.bookings.filter((b) => (knownBookingStatus(b.booking_id) ?? b.status) === 'rejected' && !b.reason && !reasons.has(b.booking_id));
    if (!unknown.length) return;
    try {
      const page = await api.get('/bookings', { prospect_id: prospectId, status: 'rejected', limit: 500 });
      for (const b of page.items) if (b.reason) reasons.set(b.booking_id, b.reason);
    } catch {
      // the reason is a detail; the status already says "Avvisad"
    }
  }

  async function load() {
    try {
      card = await api.get(`/prospects/${prospectId}`);
      await loadReasons();
    } catch (error) {
      if (!ctx.alive) return;
      if (!card) {
        title.textContent = error.status === 404 ? t('card.erased') : t('prospects.title');
        replace(contact, inlineMessage(describeError(error)));
      } else {
        notify(describeError(error), 'error');
      }
      return;
    }
    if (!ctx.alive) return;
    title.textContent = fullName(card);
    replace(statusSlot, prospectBadge(card.status));
    if (!editing) drawContact();
    keepFocus(interests, drawInterests);
    keepFocus(bookings, drawBookings);
  }

  let availableTicket = 0; // only the newest answer is drawn when requests overtake each other

  async function loadAvailable() {
    const ticket = ++availableTicket;
    let result;
    try {
      result = await api.get('/units', { status: 'available', project_id: availableProject, limit: PAGE_SIZE, offset: availableOffset });
    } catch (error) {
      if (ctx.alive && ticket === availableTicket) replace(available, inlineMessage(describeError(error)));
      return;
    }
    if (!ctx.alive || ticket !== availableTicket) return;
    keepFocus(available, () => drawAvailable(result));
  }

  async function loadProjectNames() {
    projects = await loadProjects();
    if (!ctx.alive) return;
    replace(projectSelect, h('option', { value: '' }, t('units.all')), [...projects].map(([id, name]) => h('option', { value: id, selected: id === availableProject }, name)));
  }

  // ---- drawing -------------------------------------------------------------------------

  function drawContact() {
    if (!card) return;
    if (!editing) {
      const rows = [
        ['first_name', card.first_name],
        ['last_name', card.last_name],
        ['email', card.email],
        ['phone', card.phone],
        ['note', card.note],
      ];
      replace(contact, h('dl', { class: 'facts', 'data-testid': 'contact-data' }, rows.map(([key, value]) => [h('dt', {}, t(`field.${key}`)), h('dd', { 'data-field': key }, text(value))])));
      return;
    }
    const form = h('form', { class: 'stack', 'data-testid': 'contact-form', novalidate: true });
    const message = h('div');
    form.append(
      h(
        'div',
        { class: 'grid-2' },
        field({ name: 'first_name', label: t('field.first_name'), value: card.first_name, required: true, maxlength: 100 }),
        field({ name: 'last_name', label: t('field.last_name'), value: card.last_name, required: true, maxlength: 100 }),
        field({ name: 'email', label: t('field.email'), value: card.email, type: 'email', maxlength: 254 }),
        field({ name: 'phone', label: t('field.phone'), value: card.phone, type: 'tel', maxlength: 40 }),
      ),
      field({ name: 'note', label: t('field.note'), value: card.note, multiline: true, maxlength: 10000 }),
      message,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'button', 'data-testid': 'contact-cancel', onclick: () => { editing = false; drawContact(); } }, t('action.cancel')),
        h('button', { type: 'submit', class: 'button primary', 'data-testid': 'contact-save' }, t('action.save')),
      ),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearInvalidFields(form);
      replace(message);
      const data = Object.fromEntries(new FormData(form));
      const changes = {};
      for (const [key, raw] of Object.entries(data)) {
        const value = raw.trim();
        if (value !== (card[key] ?? '')) changes[key] = value === '' && !['first_name', 'last_name'].includes(key) ? null : value;
      }
      try {
        if (Object.keys(changes).length) card = { ...card, ...(await api.patch(`/prospects/${prospectId}`, changes)) };
        editing = false;
        drawContact();
        title.textContent = fullName(card);
        notify(t('card.saved'), 'success');
        page.querySelector('[data-testid="contact-edit"]')?.focus();
      } catch (error) {
        markInvalidFields(form, error);
        replace(message, inlineMessage(describeError(error)));
      }
    });
    replace(contact, form);
    form.querySelector('input')?.focus();
  }

  function unitLink(unitId, name) {
    return h('a', { href: `#/units/${unitId}`, 'data-testid': 'unit-link' }, name ?? unitId);
  }

  function bookButton(unitId, unitName, bookable) {
    if (!writer) return null;
    return h(
      'button',
      {
        type: 'button',
        class: 'button book',
        disabled: !bookable,
        title: bookable ? null : t('card.book_unavailable'),
        'aria-label': t('card.book_label', { unit: unitName }),
        'data-testid': 'book-button',
        'data-unit-id': unitId,
        'data-focus-key': `book-${unitId}`,
        onclick: () => book(unitId, unitName),
      },
      t('action.book'),
    );
  }

  function drawInterests() {
    if (!card.interests.length) {
      replace(interests, h('p', { class: 'empty', 'data-testid': 'interest-empty' }, t('card.interest_none')));
      return;
    }
    replace(
      interests,
      h(
        'ul',
        { class: 'unit-rows', 'data-testid': 'interest-list' },
        card.interests.map((i) => {
          const status = knownUnitStatus(i.unit_id) ?? i.unit_status;
          const bookable = knownUnitStatus(i.unit_id) ? status === 'available' : i.bookable;
          return h(
            'li',
            { class: `unit-row unit-${status}`, 'data-testid': 'interest-row', 'data-unit-id': i.unit_id },
            h('span', { class: 'unit-name' }, unitLink(i.unit_id, i.unit_name)),
            unitBadge(status),
            bookButton(i.unit_id, i.unit_name, bookable),
          );
        }),
      ),
    );
  }

  function drawBookings() {
    const list = [...card.bookings].reverse();
    if (!list.length) {
      replace(bookings, h('p', { class: 'empty', 'data-testid': 'bookings-empty' }, t('card.bookings_none')));
      return;
    }
    replace(
      bookings,
      h(
        'ul',
        { class: 'unit-rows', 'data-testid': 'booking-list' },
        list.map((b) => {
          const status = knownBookingStatus(b.booking_id) ?? b.status;
          const cancellable = writer && (status === 'confirmed' || status === 'pending');
          return h(
            'li',
            { class: `unit-row booking-row-${status}`, 'data-testid': 'booking-row', 'data-booking-id': b.booking_id, 'data-unit-id': b.unit_id },
            h('span', { class: 'unit-name' }, unitLink(b.unit_id, b.unit_name)),
            bookingBadge(status),
            status === 'rejected' && (b.reason ?? reasons.get(b.booking_id))
              ? h('span', { class: 'muted reason', 'data-testid': 'booking-reason' }, reasonText(b.reason ?? reasons.get(b.booking_id)))
              : null,
            cancellable
              ? h(
                  'button',
                  { type: 'button', class: 'button danger-outline small', 'data-testid': 'cancel-booking', 'data-focus-key': `cancel-${b.booking_id}`, onclick: () => cancelBooking(b) },
                  t('action.unbook'),
                )
              : null,
          );
        }),
      ),
    );
  }

  function drawAvailable(result) {
    if (!result.items.length) {
      replace(available, h('p', { class: 'empty', 'data-testid': 'available-empty' }, t('card.book_units_none')), pager({ offset: availableOffset, total: result.total, onPage: pageAvailable, testid: 'available-pager' }));
      return;
    }
    const cols = ['unit', 'project', 'rooms', 'area', 'floor', 'price', 'status'];
    replace(
      available,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'list responsive', 'data-testid': 'available-list' },
          h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', class: COLUMN_CLASS[c] }, t(`col.${c}`))), writer ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('col.action'))) : null)),
          h(
            'tbody',
            {},
            result.items.map((u) => {
              const status = knownUnitStatus(u.id) ?? u.status;
              return h(
                'tr',
                { class: `unit-${status}`, 'data-testid': 'available-row', 'data-unit-id': u.id },
                h('td', { 'data-label': t('col.unit'), class: COLUMN_CLASS.unit }, unitLink(u.id, u.name)),
                h('td', { 'data-label': t('col.project'), class: COLUMN_CLASS.project }, text(projects.get(u.project_id))),
                h('td', { 'data-label': t('col.rooms'), class: COLUMN_CLASS.rooms }, number(u.rooms)),
                h('td', { 'data-label': t('col.area'), class: COLUMN_CLASS.area }, area(u.living_area_sqm)),
                h('td', { 'data-label': t('col.floor'), class: COLUMN_CLASS.floor }, number(u.floor)),
                h('td', { 'data-label': t('col.price'), class: COLUMN_CLASS.price }, money(u.price_sek)),
                h('td', { 'data-label': t('col.status'), class: COLUMN_CLASS.status }, unitBadge(status)),
                writer ? h('td', { class: 'action-cell' }, bookButton(u.id, u.name, status === 'available')) : null,
              );
            }),
          ),
        ),
      ),
      pager({ offset: availableOffset, total: result.total, onPage: pageAvailable, testid: 'available-pager' }),
    );
  }

  function pageAvailable(offset) {
    availableOffset = offset;
    loadAvailable();
  }

  // ---- actions -------------------------------------------------------------------------

  async function book(unitId, unitName) {
    if (!card) return;
    await bookUnit({ prospect: card, unitId, unitName });
    if (!ctx.alive) return;
    load();
    loadAvailable();
  }

  async function cancelBooking(b) {
    const done = await cancelDialog({ unitName: b.unit_name, submit: (reason) => api.post(`/bookings/${b.booking_id}/cancel`, reason ? { reason } : {}) });
    if (done && ctx.alive) refreshCard();
  }

  async function editInterests() {
    const slot = h('div', {}, h('p', { class: 'muted' }, t('app.loading')));
    const message = h('div');
    let picker = null;
    const save = h('button', { type: 'button', class: 'button primary', 'data-testid': 'interest-save', disabled: true }, t('action.save'));
    const ref = openDialog({
      title: t('card.interest_edit'),
      testid: 'interest-dialog',
      wide: true,
      body: [slot, message],
      actions: [h('button', { type: 'button', class: 'button', onclick: () => ref.close() }, t('action.cancel')), save],
    });
    try {
      const units = await loadAllUnits();
      picker = unitPicker({ units, projects, selected: card.interests.map((i) => i.unit_id) });
      replace(slot, picker.el);
      save.disabled = false;
    } catch (error) {
      replace(slot, inlineMessage(describeError(error)));
    }
    save.addEventListener('click', async () => {
      save.disabled = true;
      try {
        await api.put(`/prospects/${prospectId}/interests`, { unit_ids: picker.value() });
        ref.close();
        notify(t('card.interest_saved'), 'success');
        load();
      } catch (error) {
        replace(message, inlineMessage(describeError(error)));
        save.disabled = false;
      }
    });
  }

  // ---- live ----------------------------------------------------------------------------

  const refreshCard = throttle(load, 700);
  const refreshAvailable = throttle(loadAvailable, 1000);
  ctx.onDispose(refreshCard.cancel);
  ctx.onDispose(refreshAvailable.cancel);

  ctx.live('unit.status', ({ unit_id: unitId, status }) => {
    let shown = false;
    for (const row of page.querySelectorAll(`[data-unit-id="${CSS.escape(unitId)}"]`)) {
      if (row.dataset.testid === 'booking-row') continue;
      shown = true;
      row.className = row.className.replace(/\bunit-(available|booked|reserved|sold)\b/, `unit-${status}`);
      const badge = row.querySelector('[data-testid="unit-status"]');
      if (badge) setUnitBadge(badge, status);
      const button = row.querySelector('[data-testid="book-button"]');
      if (button) {
        button.disabled = status !== 'available';
        button.title = status === 'available' ? '' : t('card.book_unavailable');
      }
    }
    // A unit that became free belongs in BOKA OBJEKT; one of ours may mean a new booking.
    if (status === 'available' && !available.querySelector(`[data-unit-id="${CSS.escape(unitId)}"]`)) refreshAvailable();
    if (shown || card?.bookings.some((b) => b.unit_id === unitId)) refreshCard();
  });
  ctx.live('booking.status', ({ booking_id: bookingId, unit_id: unitId, status, reason }) => {
    if (reason) reasons.set(bookingId, reason);
    const row = bookings.querySelector(`[data-booking-id="${CSS.escape(bookingId)}"]`);
    const badge = row?.querySelector('[data-testid="booking-status"]');
    if (badge) setBookingBadge(badge, status);
    // Another agent may have booked for this prospect: the event does not say for whom, but
    // the unit was free, so it is on this page if it concerns this prospect.
    if (row || !unitId || page.querySelector(`[data-unit-id="${CSS.escape(unitId)}"]`)) refreshCard();
  });
  ctx.live('unit.changed', ({ unit_id: unitId }) => {
    if (available.querySelector(`[data-unit-id="${CSS.escape(unitId)}"]`)) refreshAvailable();
  });
  ctx.live('resync', () => {
    refreshCard();
    refreshAvailable();
  });

  // BOKA OBJEKT shows the project the prospect is interested in, when there is exactly one.
  async function interestProject() {
    const ids = card?.interests.slice(0, 5).map((i) => i.unit_id) ?? [];
    if (!ids.length) return '';
    try {
      const units = await Promise.all(ids.map((id) => api.get(`/units/${id}`)));
      const projectIds = new Set(units.map((u) => u.project_id));
      return projectIds.size === 1 ? [...projectIds][0] : '';
    } catch {
      return '';
    }
  }

  Promise.all([load(), loadProjectNames()]).then(async () => {
    if (!ctx.alive) return;
    availableProject = await interestProject();
    if (!ctx.alive) return;
    projectSelect.value = availableProject;
    loadAvailable();
  });
}
