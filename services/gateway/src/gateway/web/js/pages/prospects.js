// Intressenter: the long list, searched by name, e-mail or phone; PLUS adds a prospect.

import { api, canWrite } from '../api.js';
import { PAGE_SIZE, field, listTable, loadAllUnits, loadProjects, pager, unitPicker } from '../components.js';
import { openDialog } from '../dialog.js';
import { fullName, h, replace, throttle, uid } from '../dom.js';
import { clearInvalidFields, describeError, markInvalidFields } from '../errors.js';
import { text } from '../format.js';
import { t } from '../i18n.js';
import { inlineMessage, notify } from '../notices.js';
import { prospectBadge } from '../status.js';

export function prospectsPage(ctx) {
  const q = ctx.query.get('q') ?? '';
  const status = ctx.query.get('status') ?? '';
  const offset = Math.max(0, Number(ctx.query.get('offset')) || 0);

  const searchId = uid('prospect-search');
  const hintId = uid('search-hint');
  const statusId = uid('prospect-status');
  const search = h('input', { id: searchId, type: 'search', name: 'q', value: q, maxlength: 100, 'aria-describedby': hintId, 'data-testid': 'prospect-search' });
  const statusSelect = h(
    'select',
    { id: statusId, name: 'status', 'data-testid': 'prospect-filter-status', onchange: () => go(0) },
    h('option', { value: '' }, t('prospects.all')),
    ['prospect', 'buyer'].map((s) => h('option', { value: s, selected: s === status }, t(`prospect.status.${s}`))),
  );
  const results = h('div', { class: 'results', 'aria-busy': 'true' }, h('p', { class: 'muted' }, t('app.loading')));

  function go(nextOffset) {
    ctx.navigate('/prospects', { q: search.value.trim(), status: statusSelect.value, offset: nextOffset || undefined });
  }

  ctx.main.append(
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, t('prospects.title'))),
    h(
      'form',
      { class: 'toolbar', role: 'search', onsubmit: (e) => { e.preventDefault(); go(0); } },
      h('div', { class: 'field grow' }, h('label', { for: searchId }, t('prospects.search')), search, h('span', { id: hintId, class: 'hint' }, t('prospects.search_hint'))),
      h('div', { class: 'field' }, h('label', { for: statusId }, t('prospects.filter_status')), statusSelect),
      h('button', { type: 'submit', class: 'button', 'data-testid': 'prospect-search-submit' }, t('action.search')),
    ),
    results,
  );
  if (canWrite()) {
    ctx.main.append(
      h('button', { type: 'button', class: 'fab', 'aria-label': t('prospects.add'), title: t('prospects.add'), 'data-testid': 'add-prospect', onclick: () => newProspectDialog(ctx) }, h('span', { 'aria-hidden': 'true' }, '+')),
    );
  }

  async function load() {
    let page;
    try {
      page = await api.get('/prospects', { q, status, limit: PAGE_SIZE, offset });
    } catch (error) {
      if (!ctx.alive) return;
      replace(results, inlineMessage(describeError(error)));
      results.removeAttribute('aria-busy');
      return;
    }
    if (!ctx.alive) return;
    results.removeAttribute('aria-busy');
    replace(
      results,
      listTable({
        testid: 'prospect-list',
        columns: ['name', 'email', 'phone', 'status'],
        heading: (c) => t(`prospects.col.${c}`),
        items: page.items,
        row,
        empty: t('prospects.none'),
      }),
      pager({ offset, total: page.total, onPage: go }),
    );
  }

  function row(p) {
    return h(
      'tr',
      { 'data-testid': 'prospect-row', 'data-prospect-id': p.id },
      h('td', { 'data-label': t('prospects.col.name') }, h('a', { href: `#/prospects/${p.id}`, 'data-testid': 'prospect-link' }, fullName(p))),
      h('td', { 'data-label': t('prospects.col.email') }, text(p.email)),
      h('td', { 'data-label': t('prospects.col.phone') }, text(p.phone)),
      h('td', { 'data-label': t('prospects.col.status') }, prospectBadge(p.status)),
    );
  }

  // A confirmed or cancelled booking can change a prospect's status in this list.
  const refresh = throttle(load, 1000);
  ctx.live('booking.status', refresh);
  ctx.live('resync', refresh);
  ctx.onDispose(refresh.cancel);
  load();
}

function newProspectDialog(ctx) {
  const form = h('form', { class: 'stack', 'data-testid': 'prospect-form', novalidate: true });
  const message = h('div', { role: 'alert', 'data-testid': 'prospect-form-error' });
  const pickerSlot = h('div', {}, h('p', { class: 'muted' }, t('app.loading')));
  let picker = null;
  const save = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'prospect-form-save' }, t('action.save'));
  form.id = uid('prospect-form');
  save.setAttribute('form', form.id);
  form.append(
    h(
      'div',
      { class: 'grid-2' },
      field({ name: 'first_name', label: t('field.first_name'), required: true, maxlength: 100 }),
      field({ name: 'last_name', label: t('field.last_name'), required: true, maxlength: 100 }),
      field({ name: 'email', label: t('field.email'), type: 'email', maxlength: 254 }),
      field({ name: 'phone', label: t('field.phone'), type: 'tel', maxlength: 40 }),
    ),
    field({ name: 'note', label: t('field.note'), multiline: true, maxlength: 10000 }),
    pickerSlot,
    message,
  );
  const ref = openDialog({
    title: t('prospects.new_title'),
    testid: 'prospect-dialog',
    wide: true,
    body: [form],
    actions: [h('button', { type: 'button', class: 'button', 'data-testid': 'prospect-form-cancel', onclick: () => ref.close() }, t('action.cancel')), save],
  });

  Promise.all([loadAllUnits(), loadProjects()]).then(
    ([units, projects]) => {
      picker = unitPicker({ units, projects });
      replace(pickerSlot, picker.el);
    },
    (error) => replace(pickerSlot, inlineMessage(describeError(error), 'info')),
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearInvalidFields(form);
    replace(message);
    const data = Object.fromEntries(new FormData(form));
    const body = { first_name: data.first_name.trim(), last_name: data.last_name.trim() };
    for (const key of ['email', 'phone', 'note']) if (data[key]?.trim()) body[key] = data[key].trim();
    const interests = picker?.value() ?? [];
    if (interests.length) body.interests = interests;
    save.disabled = true;
    try {
      const prospect = await api.post('/prospects', body);
      ref.close();
      notify(t('prospects.created', { name: fullName(prospect) }), 'success');
      ctx.navigate(`/prospects/${prospect.id}`);
    } catch (error) {
      markInvalidFields(form, error);
      replace(message, inlineMessage(describeError(error)));
      save.disabled = false;
    }
  });
}
