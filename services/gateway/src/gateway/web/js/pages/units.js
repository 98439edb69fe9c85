// Objekt: every unit with its status colour and buyers, filtered by status and project.

import { api } from '../api.js';
import { buyerChips, buyersOfUnit } from '../buyer-chips.js';
import { COLUMN_CLASS, PAGE_SIZE, listTable, loadProjects, pager } from '../components.js';
import { h, keepFocus, replace, uid } from '../dom.js';
import { describeError } from '../errors.js';
import { area, money, number, text } from '../format.js';
import { t } from '../i18n.js';
import { knownUnitStatus } from '../live.js';
import { inlineMessage } from '../notices.js';
import { UNIT_STATUSES, setUnitBadge, unitBadge } from '../status.js';

export function unitsPage(ctx) {
  const status = ctx.query.get('status') ?? '';
  const projectId = ctx.query.get('project_id') ?? '';
  const q = ctx.query.get('q') ?? '';
  const offset = Math.max(0, Number(ctx.query.get('offset')) || 0);
  const units = new Map(); // id -> unit as shown
  let projects = new Map();

  const statusId = uid('unit-status');
  const projectSelectId = uid('unit-project');
  const qId = uid('unit-q');
  const statusSelect = h(
    'select',
    { id: statusId, 'data-testid': 'filter-status', onchange: () => go(0) },
    h('option', { value: '' }, t('units.all')),
    UNIT_STATUSES.map((s) => h('option', { value: s, selected: s === status }, t(`unit.status.${s}`))),
  );
  const projectSelect = h('select', { id: projectSelectId, 'data-testid': 'filter-project', onchange: () => go(0) }, h('option', { value: '' }, t('units.all')));
  const qInput = h('input', { id: qId, type: 'search', value: q, maxlength: 100, 'data-testid': 'filter-q' });
  const results = h('div', { class: 'results', 'aria-busy': 'true' }, h('p', { class: 'muted' }, t('app.loading')));

  function go(nextOffset) {
    ctx.navigate('/units', { status: statusSelect.value, project_id: projectSelect.value, q: qInput.value.trim(), offset: nextOffset || undefined });
  }

  ctx.main.append(
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, t('units.title'))),
    h(
      'form',
      { class: 'toolbar', role: 'search', onsubmit: (e) => { e.preventDefault(); go(0); } },
      h('div', { class: 'field' }, h('label', { for: statusId }, t('units.filter_status')), statusSelect),
      h('div', { class: 'field' }, h('label', { for: projectSelectId }, t('units.filter_project')), projectSelect),
      h('div', { class: 'field grow' }, h('label', { for: qId }, t('units.filter_q')), qInput),
      h('button', { type: 'submit', class: 'button' }, t('action.search')),
    ),
    h('ul', { class: 'legend', 'aria-hidden': 'true' }, UNIT_STATUSES.map((s) => h('li', {}, unitBadge(s)))),
    results,
  );

  async function load() {
    let page;
    try {
      page = await api.get('/units', { status, project_id: projectId, q, limit: PAGE_SIZE, offset });
    } catch (error) {
      if (!ctx.alive) return;
      results.removeAttribute('aria-busy');
      replace(results, inlineMessage(describeError(error)));
      return;
    }
    if (!ctx.alive) return;
    results.removeAttribute('aria-busy');
    units.clear();
    for (const unit of page.items) units.set(unit.id, { ...unit, status: knownUnitStatus(unit.id) ?? unit.status });
    keepFocus(results, () =>
      replace(
        results,
        listTable({
          testid: 'unit-list',
          columns: ['unit', 'project', 'rooms', 'area', 'floor', 'price', 'status', 'buyers'],
          heading: (c) => t(`col.${c}`),
          columnClass: (c) => COLUMN_CLASS[c],
          items: [...units.values()],
          row,
          empty: t('units.none'),
        }),
        pager({ offset, total: page.total, onPage: go }),
      ),
    );
  }

  function row(unit) {
    return h(
      'tr',
      { class: `unit-${unit.status}`, 'data-testid': 'unit-row', 'data-unit-id': unit.id },
      h('td', { 'data-label': t('col.unit'), class: COLUMN_CLASS.unit }, h('a', { href: `#/units/${unit.id}`, 'data-testid': 'unit-link' }, unit.name)),
      h('td', { 'data-label': t('col.project'), class: COLUMN_CLASS.project }, text(projects.get(unit.project_id))),
      h('td', { 'data-label': t('col.rooms'), class: COLUMN_CLASS.rooms }, number(unit.rooms)),
      h('td', { 'data-label': t('col.area'), class: COLUMN_CLASS.area }, area(unit.living_area_sqm)),
      h('td', { 'data-label': t('col.floor'), class: COLUMN_CLASS.floor }, number(unit.floor)),
      h('td', { 'data-label': t('col.price'), class: COLUMN_CLASS.price }, money(unit.price_sek)),
      h('td', { 'data-label': t('col.status'), class: COLUMN_CLASS.status }, unitBadge(unit.status)),
      h('td', { 'data-label': t('col.buyers'), class: 'buyers-cell' }, buyerChips({ unit, buyers: unit.buyers, onChanged: () => refreshBuyers(unit.id) })),
    );
  }

  // ---- live: one unit at a time, in place -----------------------------------------------

  const pendingBuyerRefresh = new Map();

  function refreshBuyers(unitId) {
    if (pendingBuyerRefresh.has(unitId)) return;
    pendingBuyerRefresh.set(
      unitId,
      setTimeout(async () => {
        pendingBuyerRefresh.delete(unitId);
        const unit = units.get(unitId);
        if (!unit || !ctx.alive) return;
        let buyers;
        try {
          buyers = await buyersOfUnit(unitId);
        } catch {
          return; // the next event or a reconnect brings them
        }
        const cell = results.querySelector(`[data-unit-id="${CSS.escape(unitId)}"] .buyers-cell`);
        if (!cell || !ctx.alive) return;
        unit.buyers = buyers;
        keepFocus(cell, () => replace(cell, buyerChips({ unit, buyers, onChanged: () => refreshBuyers(unitId) })));
      }, 300),
    );
  }
  ctx.onDispose(() => pendingBuyerRefresh.forEach((timer) => clearTimeout(timer)));

  ctx.live('unit.status', ({ unit_id: unitId, status: next }) => {
    const unit = units.get(unitId);
    if (!unit) return;
    unit.status = next;
    const tr = results.querySelector(`[data-unit-id="${CSS.escape(unitId)}"]`);
    if (!tr) return;
    tr.className = `unit-${next}`;
    setUnitBadge(tr.querySelector('[data-testid="unit-status"]'), next);
    refreshBuyers(unitId);
  });
  ctx.live('unit.changed', async ({ unit_id: unitId }) => {
    if (!units.has(unitId)) return;
    let fresh;
    try {
      fresh = await api.get(`/units/${unitId}`);
    } catch {
      return;
    }
    const tr = results.querySelector(`[data-unit-id="${CSS.escape(unitId)}"]`);
    if (!tr || !ctx.alive) return;
    const unit = { ...fresh, status: knownUnitStatus(unitId) ?? fresh.status, buyers: units.get(unitId).buyers };
    units.set(unitId, unit);
    keepFocus(results, () => tr.replaceWith(row(unit)));
  });
  ctx.live('buyers.changed', ({ unit_id: unitId }) => {
    if (units.has(unitId)) refreshBuyers(unitId);
  });
  ctx.live('resync', load);

  loadProjects().then((names) => {
    if (!ctx.alive) return;
    projects = names;
    for (const [id, name] of projects) projectSelect.append(h('option', { value: id, selected: id === projectId }, name));
    load();
  });
}
