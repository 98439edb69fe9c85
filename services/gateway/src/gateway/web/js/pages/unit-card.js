// The unit card: edit data, change status, add or remove buyers, Avboka, history.

import { api, canWrite } from '../api.js';
import { awaitBooking, cancelDialog, outcomeText } from '../booking.js';
import { buyerChips, buyersOfUnit } from '../buyer-chips.js';
import { PAGE_SIZE, field, loadProjects, personForm } from '../components.js';
import { fullName, h, keepFocus, replace, throttle, uid } from '../dom.js';
import { clearInvalidFields, describeError, markInvalidFields, reasonText } from '../errors.js';
import { area, dateTime, money, number, text } from '../format.js';
import { has, t } from '../i18n.js';
import { knownUnitStatus, noteUnitStatus } from '../live.js';
import { inlineMessage, notify } from '../notices.js';
import { setUnitBadge, unitBadge } from '../status.js';

const EDITABLE = [
  ['name', 'text'],
  ['rooms', 'number'],
  ['living_area_sqm', 'number'],
  ['floor', 'number'],
  ['price_sek', 'number'],
  ['monthly_fee_sek', 'number'],
];

// The units service records its own steps in English codes; agents' own words pass through.
function historyReason(reason) {
  if (!reason) return text(reason);
  const rejected = /^booking rejected: (.+)$/.exec(reason);
  if (rejected) return t('history.why.booking rejected', { reason: reasonText(rejected[1]) });
  return has(`history.why.${reason}`) ? t(`history.why.${reason}`) : reason;
}

export function unitCardPage(ctx) {
  const [unitId] = ctx.params;
  const writer = canWrite();
  let unit = null;
  let projects = new Map();
  let editing = false;
  let historyItems = [];
  let historyTotal = 0;

  const title = h('h1', { tabindex: '-1', 'data-testid': 'unit-name' }, t('app.loading'));
  const badge = unitBadge('available');
  badge.hidden = true;
  const projectLine = h('p', { class: 'muted', 'data-testid': 'unit-project' });
  const facts = h('div', { class: 'section-body' });
  const statusBody = h('div', { class: 'section-body' });
  const statusMessage = h('div', { 'aria-live': 'polite', 'data-testid': 'status-message' });
  const buyersBody = h('div', { class: 'section-body' });
  const addBuyerForm = h('div');
  // Outside the form: the form is redrawn when the unit's status changes, the outcome stays.
  const addBuyerOutcome = h('div', { class: 'outcome', role: 'status', 'aria-live': 'polite', 'data-testid': 'add-buyer-outcome' });
  const addBuyerBody = h('div', { class: 'section-body' }, addBuyerForm, addBuyerOutcome);
  const historyBody = h('div', { class: 'section-body' });
  const cancelButton = h('button', { type: 'button', class: 'button danger', hidden: true, 'data-testid': 'unit-cancel-booking', onclick: cancelBooking }, t('unitcard.cancel'));

  const section = (id, heading, ...body) =>
    h('section', { class: 'card section', 'aria-labelledby': id, 'data-testid': `section-${id}` }, h('div', { class: 'section-head' }, h('h2', { id }, heading)), body);

  const page = h(
    'div',
    { class: 'unit-card', 'data-testid': 'unit-card', 'data-unit-id': unitId },
    h('p', { class: 'crumbs' }, h('a', { href: '#/units', 'data-testid': 'back-to-units' }, `‹ ${t('unitcard.back')}`)),
    h('div', { class: 'page-head' }, title, h('span', { class: 'title-badge' }, badge), writer ? h('div', { class: 'page-actions' }, cancelButton) : null),
    projectLine,
    h(
      'div',
      { class: 'card-grid' },
      h(
        'section',
        { class: 'card section', 'aria-labelledby': 'unit-data', 'data-testid': 'section-unit-data' },
        h(
          'div',
          { class: 'section-head' },
          h('h2', { id: 'unit-data' }, t('unitcard.data')),
          writer ? h('button', { type: 'button', class: 'button small', 'data-testid': 'unit-edit', onclick: () => { editing = true; drawFacts(); } }, t('action.edit')) : null,
        ),
        facts,
      ),
      h('div', { class: 'stack' }, writer ? section('unit-status-change', t('unitcard.status'), statusBody, statusMessage) : null, section('unit-buyers', t('unitcard.buyers'), buyersBody, writer ? addBuyerBody : null)),
    ),
    section('unit-history', t('unitcard.history'), historyBody),
  );
  ctx.main.append(page);

  // ---- loading -------------------------------------------------------------------------

  async function load() {
    try {
      const fresh = await api.get(`/units/${unitId}`);
      unit = { ...fresh, status: knownUnitStatus(unitId) ?? fresh.status };
    } catch (error) {
      if (!ctx.alive) return;
      if (!unit) {
        title.textContent = t('units.title');
        replace(facts, inlineMessage(describeError(error)));
      } else notify(describeError(error), 'error');
      return;
    }
    if (!ctx.alive) return;
    title.textContent = unit.name;
    projectLine.textContent = projects.get(unit.project_id) ?? '';
    drawStatus();
    if (!editing) drawFacts();
  }

  async function loadBuyers() {
    let buyers;
    try {
      buyers = await buyersOfUnit(unitId);
    } catch (error) {
      if (ctx.alive) replace(buyersBody, inlineMessage(describeError(error)));
      return;
    }
    if (!ctx.alive || !unit) return;
    keepFocus(buyersBody, () =>
      replace(buyersBody, buyers.length ? buyerChips({ unit, buyers, onChanged: refreshBuyers }) : h('p', { class: 'empty', 'data-testid': 'no-buyers' }, t('unitcard.buyers_none'))),
    );
  }

  async function loadHistory(more = false) {
    let page;
    try {
      page = await api.get(`/units/${unitId}/history`, { limit: PAGE_SIZE, offset: more ? historyItems.length : 0 });
    } catch (error) {
      if (ctx.alive) replace(historyBody, inlineMessage(describeError(error)));
      return;
    }
    if (!ctx.alive) return;
    historyItems = more ? [...historyItems, ...page.items] : page.items;
    historyTotal = page.total;
    drawHistory();
  }

  // ---- drawing -------------------------------------------------------------------------

  function drawStatus() {
    setUnitBadge(badge, unit.status);
    badge.hidden = false;
    page.dataset.status = unit.status;
    cancelButton.hidden = unit.status === 'available';
    if (writer) {
      keepFocus(statusBody, () =>
        replace(
          statusBody,
          h(
            'div',
            { class: 'segmented', role: 'group', 'aria-label': t('unitcard.status') },
            ['booked', 'reserved', 'sold'].map((s) =>
              h(
                'button',
                {
                  type: 'button',
                  class: `button status-choice unit-${s}`,
                  'aria-pressed': String(unit.status === s),
                  'data-testid': `status-change-${s}`,
                  'data-focus-key': `status-${s}`,
                  onclick: () => changeStatus(s),
                },
                t(`unit.status.${s}`),
              ),
            ),
          ),
          unit.status === 'available' ? h('p', { class: 'hint' }, t('unitcard.status_hint_available')) : null,
        ),
      );
      drawAddBuyer();
    }
  }

  function drawFacts() {
    if (!unit) return;
    if (!editing) {
      const rows = [
        [t('field.name'), text(unit.name)],
        [t('field.rooms'), number(unit.rooms)],
        [t('col.area'), area(unit.living_area_sqm)],
        [t('field.floor'), number(unit.floor)],
        [t('col.price'), money(unit.price_sek)],
        [t('field.monthly_fee_sek'), money(unit.monthly_fee_sek)],
        [t('field.description'), text(unit.description)],
      ];
      replace(facts, h('dl', { class: 'facts', 'data-testid': 'unit-data' }, rows.map(([label, value]) => [h('dt', {}, label), h('dd', {}, value)])));
      return;
    }
    const form = h('form', { class: 'stack', 'data-testid': 'unit-form', novalidate: true });
    const message = h('div');
    form.append(
      h(
        'div',
        { class: 'grid-2' },
        EDITABLE.map(([name, type]) =>
          field({ name, label: t(`field.${name}`), type, value: unit[name] ?? '', required: name === 'name', maxlength: name === 'name' ? 100 : undefined, attrs: type === 'number' ? { step: 'any', min: name === 'floor' ? null : 0 } : {} }),
        ),
      ),
      field({ name: 'description', label: t('field.description'), value: unit.description ?? '', multiline: true, maxlength: 10000 }),
      message,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'button', 'data-testid': 'unit-form-cancel', onclick: () => { editing = false; drawFacts(); } }, t('action.cancel')),
        h('button', { type: 'submit', class: 'button primary', 'data-testid': 'unit-form-save' }, t('action.save')),
      ),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearInvalidFields(form);
      replace(message);
      const data = Object.fromEntries(new FormData(form));
      const changes = {};
      for (const [name, raw] of Object.entries(data)) {
        const type = EDITABLE.find(([n]) => n === name)?.[1] ?? 'text';
        const trimmed = raw.trim();
        const value = trimmed === '' ? null : type === 'number' ? Number(trimmed) : trimmed;
        if (value !== (unit[name] ?? null)) changes[name] = value;
      }
      try {
        if (Object.keys(changes).length) {
          const saved = await api.patch(`/units/${unitId}`, changes);
          unit = { ...saved, status: knownUnitStatus(unitId) ?? saved.status };
        }
        editing = false;
        title.textContent = unit.name;
        drawFacts();
        notify(t('unitcard.saved'), 'success');
        page.querySelector('[data-testid="unit-edit"]')?.focus();
      } catch (error) {
        markInvalidFields(form, error);
        replace(message, inlineMessage(describeError(error)));
      }
    });
    replace(facts, form);
    form.querySelector('input')?.focus();
  }

  let addBuyerMode = null;
  function drawAddBuyer() {
    const mode = unit.status === 'available' ? 'book' : unit.booking_ids?.length ? 'co' : 'blocked';
    if (mode === addBuyerMode) return; // keep what the agent is typing
    addBuyerMode = mode;
    if (mode === 'blocked') {
      replace(addBuyerForm, h('h3', {}, t('unitcard.add_buyer')), h('p', { class: 'hint' }, t('unitcard.add_buyer_blocked')));
      return;
    }
    const person = personForm();
    const outcome = addBuyerOutcome;
    const submit = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'add-buyer-submit' }, t('buyerform.submit'));
    const form = h(
      'form',
      { class: 'stack add-buyer', 'data-testid': 'add-buyer-form', novalidate: true },
      h('h3', {}, t('unitcard.add_buyer')),
      h('p', { class: 'hint' }, mode === 'book' ? t('unitcard.add_buyer_book_hint') : t('unitcard.add_buyer_co_hint')),
      person.el,
      h('div', { class: 'actions' }, submit),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearInvalidFields(form);
      submit.disabled = true;
      outcome.className = 'outcome outcome-info';
      replace(outcome, t('book.busy'));
      try {
        if (mode === 'book') await addBookingBuyer(person, outcome);
        else await addCoBuyer(person, outcome);
        // an empty form again, so the same person is not added twice by mistake
        addBuyerMode = null;
        if (unit) drawAddBuyer();
      } catch (error) {
        markInvalidFields(form, error);
        outcome.className = 'outcome outcome-error';
        outcome.dataset.outcome = 'error';
        replace(outcome, describeError(error));
      } finally {
        submit.disabled = false;
      }
    });
    replace(addBuyerForm, form);
  }

  async function addBookingBuyer(person, outcome) {
    const prospectId = person.prospectId();
    const body = prospectId ? { unit_id: unitId, prospect_id: prospectId } : { unit_id: unitId, ...person.values() };
    const started = await api.post('/buyers', body);
    const booking = await awaitBooking(started.booking_id, () => replace(outcome, t('book.waiting')));
    const words = outcomeText(booking, { unit: unit.name, prospect: fullName(person.values()) });
    outcome.className = `outcome outcome-${words.kind}`;
    outcome.dataset.outcome = booking.status;
    if (booking.reason) outcome.dataset.reason = booking.reason;
    replace(outcome, h('strong', {}, words.title), words.text ? ` ${words.text}` : null);
    if (booking.status === 'confirmed') noteUnitStatus(unitId, 'booked');
    refreshAll();
  }

  async function addCoBuyer(person, outcome) {
    let prospectId = person.prospectId();
    if (!prospectId) prospectId = (await api.post('/prospects', person.values())).id;
    await api.post(`/bookings/${unit.booking_ids[0]}/buyers`, { prospect_id: prospectId });
    outcome.className = 'outcome outcome-success';
    outcome.dataset.outcome = 'co-buyer';
    replace(outcome, t('unitcard.co_buyer_added'));
    refreshBuyers();
  }

  function drawHistory() {
    if (!historyItems.length) {
      replace(historyBody, h('p', { class: 'empty', 'data-testid': 'history-empty' }, t('unitcard.history_none')));
      return;
    }
    const status = (s) => (s ? unitBadge(s) : '–');
    replace(
      historyBody,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'list responsive', 'data-testid': 'history-list' },
          h('thead', {}, h('tr', {}, ['at', 'from', 'to', 'by', 'reason'].map((c) => h('th', { scope: 'col' }, t(`history.${c}`))))),
          h(
            'tbody',
            {},
            historyItems.map((e) =>
              h(
                'tr',
                { 'data-testid': 'history-row' },
                h('td', { 'data-label': t('history.at') }, dateTime(e.at)),
                h('td', { 'data-label': t('history.from') }, status(e.from)),
                h('td', { 'data-label': t('history.to') }, status(e.to)),
                h('td', { 'data-label': t('history.by') }, text(e.by)),
                h('td', { 'data-label': t('history.reason') }, historyReason(e.reason)),
              ),
            ),
          ),
        ),
      ),
      historyItems.length < historyTotal ? h('button', { type: 'button', class: 'button', 'data-testid': 'history-more', onclick: () => loadHistory(true) }, t('unitcard.more')) : null,
    );
  }

  // ---- actions -------------------------------------------------------------------------

  async function changeStatus(next) {
    if (!unit || next === unit.status) return;
    replace(statusMessage);
    try {
      const saved = await api.patch(`/units/${unitId}`, { status: next });
      unit = saved;
      noteUnitStatus(unitId, saved.status);
      statusMessage.className = 'outcome outcome-success';
      replace(statusMessage, t('unitcard.status_set', { status: t(`unit.status.${saved.status}`) }));
      drawStatus();
      refreshHistory();
    } catch (error) {
      statusMessage.className = 'outcome outcome-error';
      replace(statusMessage, h('span', { role: 'alert', 'data-testid': 'status-error' }, describeError(error)));
    }
  }

  async function cancelBooking() {
    const done = await cancelDialog({ unitName: unit.name, submit: (reason) => api.post(`/units/${unitId}/cancel-booking`, reason ? { reason } : {}) });
    if (done && ctx.alive) refreshAll();
  }

  // ---- live ----------------------------------------------------------------------------

  const refreshUnit = throttle(load, 500);
  const refreshBuyers = throttle(loadBuyers, 500);
  const refreshHistory = throttle(() => loadHistory(false), 800);
  function refreshAll() {
    refreshUnit();
    refreshBuyers();
    refreshHistory();
  }
  ctx.onDispose(() => [refreshUnit, refreshBuyers, refreshHistory].forEach((fn) => fn.cancel()));

  ctx.live('unit.status', ({ unit_id: id, status }) => {
    if (id !== unitId || !unit) return;
    unit.status = status;
    drawStatus();
    refreshAll();
  });
  ctx.live('unit.changed', ({ unit_id: id }) => {
    if (id === unitId) refreshUnit();
  });
  ctx.live('buyers.changed', ({ unit_id: id }) => {
    if (id === unitId) refreshBuyers();
  });
  ctx.live('booking.status', ({ booking_id: bookingId }) => {
    if (unit?.booking_ids?.includes(bookingId)) refreshAll();
  });
  ctx.live('resync', refreshAll);

  loadProjects().then((names) => {
    projects = names;
    if (unit && ctx.alive) projectLine.textContent = projects.get(unit.project_id) ?? '';
  });
  load().then(() => {
    if (!ctx.alive || !unit) return;
    loadBuyers();
    loadHistory();
  });
}
