// Köpare: every buyer with their units; a buyer can be added here directly, with a unit.

import { api, canWrite } from '../api.js';
import { awaitBooking, cancelDialog, outcomeText } from '../booking.js';
import { PAGE_SIZE, listTable, loadAllUnits, loadProjects, pager, personForm } from '../components.js';
import { openDialog } from '../dialog.js';
import { fullName, h, keepFocus, replace, throttle, uid } from '../dom.js';
import { clearInvalidFields, describeError, markInvalidFields } from '../errors.js';
import { t } from '../i18n.js';
import { noteUnitStatus } from '../live.js';
import { inlineMessage } from '../notices.js';

export function buyersPage(ctx) {
  const q = ctx.query.get('q') ?? '';
  const offset = Math.max(0, Number(ctx.query.get('offset')) || 0);
  const writer = canWrite();

  const searchId = uid('buyer-search');
  const search = h('input', { id: searchId, type: 'search', value: q, maxlength: 100, 'data-testid': 'buyers-search' });
  const results = h('div', { class: 'results', 'aria-busy': 'true' }, h('p', { class: 'muted' }, t('app.loading')));
  const go = (nextOffset) => ctx.navigate('/buyers', { q: search.value.trim(), offset: nextOffset || undefined });

  ctx.main.append(
    h(
      'div',
      { class: 'page-head' },
      h('h1', { tabindex: '-1' }, t('buyers.title')),
      writer ? h('div', { class: 'page-actions' }, h('button', { type: 'button', class: 'button primary', 'data-testid': 'add-buyer', onclick: () => addBuyerDialog(refresh) }, `+ ${t('buyers.add')}`)) : null,
    ),
    h(
      'form',
      { class: 'toolbar', role: 'search', onsubmit: (e) => { e.preventDefault(); go(0); } },
      h('div', { class: 'field grow' }, h('label', { for: searchId }, t('buyers.search')), search),
      h('button', { type: 'submit', class: 'button' }, t('action.search')),
    ),
    results,
  );

  async function load() {
    let page;
    try {
      page = await api.get('/buyers', { q, limit: PAGE_SIZE, offset });
    } catch (error) {
      if (!ctx.alive) return;
      results.removeAttribute('aria-busy');
      replace(results, inlineMessage(describeError(error)));
      return;
    }
    if (!ctx.alive) return;
    results.removeAttribute('aria-busy');
    keepFocus(results, () =>
      replace(
        results,
        listTable({
          testid: 'buyer-list',
          columns: ['name', 'contact', 'units'],
          heading: (c) => t(`buyers.col.${c}`),
          items: page.items,
          row,
          empty: t('buyers.none'),
        }),
        pager({ offset, total: page.total, onPage: go }),
      ),
    );
  }

  function row(buyer) {
    return h(
      'tr',
      { 'data-testid': 'buyer-row', 'data-buyer-id': buyer.id, 'data-prospect-id': buyer.prospect_id },
      h('td', { 'data-label': t('buyers.col.name') }, buyer.prospect_id ? h('a', { href: `#/prospects/${buyer.prospect_id}`, 'data-testid': 'buyer-name' }, fullName(buyer)) : h('span', { 'data-testid': 'buyer-name' }, fullName(buyer))),
      h('td', { 'data-label': t('buyers.col.contact') }, h('div', { class: 'contact' }, buyer.email ? h('span', {}, buyer.email) : null, buyer.phone ? h('span', {}, buyer.phone) : null)),
      h(
        'td',
        { 'data-label': t('buyers.col.units') },
        buyer.units.length
          ? h(
              'ul',
              { class: 'chips' },
              buyer.units.map((u) =>
                h(
                  'li',
                  { class: 'chip', 'data-testid': 'buyer-unit', 'data-unit-id': u.unit_id },
                  h('a', { href: `#/units/${u.unit_id}` }, u.unit_name ?? u.unit_id),
                  writer && u.booking_id
                    ? h(
                        'button',
                        {
                          type: 'button',
                          class: 'chip-action',
                          'data-testid': 'buyer-unit-cancel',
                          'data-focus-key': `cancel-${u.booking_id}`,
                          onclick: () => cancelDialog({ unitName: u.unit_name, submit: (reason) => api.post(`/bookings/${u.booking_id}/cancel`, reason ? { reason } : {}) }).then((done) => done && refresh()),
                        },
                        t('action.unbook'),
                      )
                    : null,
                ),
              ),
            )
          : h('span', { class: 'muted', 'data-testid': 'buyer-no-unit' }, t('buyers.no_unit')),
      ),
    );
  }

  const refresh = throttle(load, 800);
  ctx.onDispose(refresh.cancel);
  ctx.live('buyers.changed', refresh);
  ctx.live('booking.status', refresh);
  ctx.live('resync', refresh);
  load();
}

function addBuyerDialog(onDone) {
  const unitId = uid('buyer-unit');
  const unitSelect = h('select', { id: unitId, name: 'unit_id', required: true, disabled: true, 'data-testid': 'add-buyer-unit' }, h('option', { value: '' }, t('app.loading')));
  const person = personForm();
  const outcome = h('div', { class: 'outcome', role: 'status', 'aria-live': 'polite', 'data-testid': 'add-buyer-outcome' });
  const form = h(
    'form',
    { class: 'stack', 'data-testid': 'add-buyer-form', novalidate: true, id: uid('add-buyer') },
    h('div', { class: 'field' }, h('label', { for: unitId }, t('buyerform.unit')), unitSelect),
    person.el,
    outcome,
  );
  const submit = h('button', { type: 'submit', class: 'button primary', form: form.id, 'data-testid': 'add-buyer-submit' }, t('buyerform.submit'));
  const ref = openDialog({
    title: t('buyers.add_title'),
    testid: 'add-buyer-dialog',
    wide: true,
    body: [form],
    actions: [h('button', { type: 'button', class: 'button', onclick: () => ref.close() }, t('action.close')), submit],
    initialFocus: unitSelect,
  });

  Promise.all([loadAllUnits({ status: 'available' }), loadProjects()]).then(
    ([units, projects]) => {
      replace(
        unitSelect,
        h('option', { value: '' }, t('buyerform.pick_unit')),
        units.map((u) => h('option', { value: u.id }, projects.get(u.project_id) ? `${u.name} · ${projects.get(u.project_id)}` : u.name)),
      );
      unitSelect.disabled = false;
      unitSelect.focus();
    },
    (error) => replace(outcome, inlineMessage(describeError(error))),
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearInvalidFields(form);
    const chosenUnit = unitSelect.value;
    if (!chosenUnit) {
      unitSelect.setAttribute('aria-invalid', 'true');
      outcome.className = 'outcome outcome-error';
      replace(outcome, t('error.422', { fields: t('buyerform.unit') }));
      unitSelect.focus();
      return;
    }
    unitSelect.removeAttribute('aria-invalid');
    const prospectId = person.prospectId();
    const body = prospectId ? { unit_id: chosenUnit, prospect_id: prospectId } : { unit_id: chosenUnit, ...person.values() };
    submit.disabled = true;
    outcome.className = 'outcome outcome-info';
    replace(outcome, t('book.busy'));
    try {
      const started = await api.post('/buyers', body);
      const booking = await awaitBooking(started.booking_id, () => replace(outcome, t('book.waiting')));
      const unitName = unitSelect.selectedOptions[0]?.textContent ?? '';
      const words = outcomeText(booking, { unit: unitName, prospect: fullName(person.values()) });
      outcome.className = `outcome outcome-${words.kind}`;
      outcome.dataset.outcome = booking.status;
      if (booking.reason) outcome.dataset.reason = booking.reason;
      replace(outcome, h('strong', {}, words.title), words.text ? ` ${words.text}` : null);
      if (booking.status === 'confirmed') noteUnitStatus(chosenUnit, 'booked');
      onDone();
    } catch (error) {
      markInvalidFields(form, error);
      outcome.className = 'outcome outcome-error';
      outcome.dataset.outcome = 'error';
      replace(outcome, describeError(error));
    } finally {
      submit.disabled = false;
    }
  });
}
