// Pieces several pages share: the pager, the unit picker, the person form with suggestions.

import { api } from './api.js';
import { debounce, fullName, h, replace, uid } from './dom.js';
import { t } from './i18n.js';
import { unitBadge } from './status.js';

export const PAGE_SIZE = 50;

// Unit table columns: numbers stay on one line; `opt` columns give way on a narrow tablet.
export const COLUMN_CLASS = {
  unit: 'nowrap',
  project: 'opt',
  rooms: 'num',
  area: 'num nowrap',
  floor: 'num opt',
  price: 'num nowrap',
  status: 'nowrap',
};

export function pager({ offset, limit = PAGE_SIZE, total, onPage, testid = 'pager' }) {
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(offset + limit, total);
  return h(
    'nav',
    { class: 'pager', 'aria-label': t('pager.label'), 'data-testid': testid },
    h('button', { type: 'button', class: 'button', disabled: offset <= 0, 'data-testid': 'pager-prev', onclick: () => onPage(Math.max(0, offset - limit)) }, `‹ ${t('pager.prev')}`),
    h('span', { class: 'pager-info', 'data-testid': 'pager-info', 'aria-live': 'polite' }, total === 0 ? t('pager.empty') : t('pager.info', { from, to, total })),
    h('button', { type: 'button', class: 'button', disabled: offset + limit >= total, 'data-testid': 'pager-next', onclick: () => onPage(offset + limit) }, `${t('pager.next')} ›`),
  );
}

export async function loadProjects() {
  try {
    const page = await api.get('/projects', { limit: 500 });
    return new Map(page.items.map((p) => [p.id, p.name]));
  } catch {
    return new Map(); // project names are a nicety; the page works without them
  }
}

// Every unit, for choosing interests or a unit for a buyer (at most 500 per request).
export async function loadAllUnits(query = {}) {
  const items = [];
  for (let offset = 0; ; offset += 500) {
    const page = await api.get('/units', { ...query, limit: 500, offset });
    items.push(...page.items);
    if (items.length >= page.total || page.items.length === 0 || offset >= 4500) break;
  }
  return items;
}

// A list page's results: a responsive table with one row per item, or the words for none.
export function listTable({ testid, columns, heading, columnClass = () => undefined, items, row, empty }) {
  if (!items.length) return h('p', { class: 'empty', 'data-testid': `${testid}-empty` }, empty);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'list responsive', 'data-testid': testid },
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: columnClass(c) }, heading(c))))),
      h('tbody', {}, items.map(row)),
    ),
  );
}

export function field({ name, label, value = '', type = 'text', required = false, maxlength, multiline = false, attrs = {} }) {
  const id = uid(name);
  const input = multiline
    ? h('textarea', { id, name, rows: 3, maxlength, required, 'data-testid': `field-${name}`, ...attrs }, value ?? '')
    : h('input', { id, name, type, value: value ?? '', maxlength, required, 'data-testid': `field-${name}`, ...attrs });
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label, required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null),
    input,
  );
}

// Checkbox list of units with a filter box; `value()` gives the chosen unit ids.
export function unitPicker({ units, projects = new Map(), selected = [], legend = t('field.interests') }) {
  const chosen = new Set(selected);
  const filterId = uid('unit-filter');
  const list = h('ul', { class: 'picker-list', 'data-testid': 'unit-picker-list' });
  const filter = h('input', { id: filterId, type: 'search', autocomplete: 'off', 'data-testid': 'unit-picker-filter', oninput: () => draw(filter.value) });
  function draw(needle = '') {
    const n = needle.trim().toLowerCase();
    const shown = units.filter((u) => !n || u.name.toLowerCase().includes(n) || (projects.get(u.project_id) ?? '').toLowerCase().includes(n));
    replace(
      list,
      shown.length
        ? shown.map((u) => {
            const id = uid('pick');
            return h(
              'li',
              {},
              h('input', {
                id,
                type: 'checkbox',
                value: u.id,
                checked: chosen.has(u.id),
                'data-testid': 'unit-picker-option',
                'data-unit-name': u.name,
                onchange: (e) => (e.target.checked ? chosen.add(u.id) : chosen.delete(u.id)),
              }),
              h('label', { for: id }, h('span', { class: 'picker-name' }, u.name), projects.get(u.project_id) ? h('span', { class: 'muted' }, ` · ${projects.get(u.project_id)}`) : null, ' ', unitBadge(u.status)),
            );
          })
        : h('li', { class: 'muted' }, t('picker.none')),
    );
  }
  draw();
  const el = h('fieldset', { class: 'picker' }, h('legend', {}, legend), h('label', { for: filterId, class: 'sr-only' }, t('picker.filter')), filter, list);
  filter.placeholder = t('picker.filter');
  return { el, value: () => [...chosen] };
}

// First/last name, e-mail, phone; a search box suggests existing prospects and fills them in.
export function personForm({ withSearch = true } = {}) {
  let prospectId = null;
  const first = field({ name: 'first_name', label: t('field.first_name'), required: true, maxlength: 100, attrs: { autocomplete: 'off' } });
  const last = field({ name: 'last_name', label: t('field.last_name'), required: true, maxlength: 100, attrs: { autocomplete: 'off' } });
  const email = field({ name: 'email', label: t('field.email'), type: 'email', maxlength: 254, attrs: { autocomplete: 'off' } });
  const phone = field({ name: 'phone', label: t('field.phone'), type: 'tel', maxlength: 40, attrs: { autocomplete: 'off' } });
  const inputs = [first, last, email, phone].map((wrap) => wrap.querySelector('input'));
  const selected = h('p', { class: 'selected-person', 'data-testid': 'buyer-selected', hidden: true });
  const parts = [];

  if (withSearch) {
    const searchId = uid('person-search');
    const listId = uid('person-options');
    const hintId = uid('person-hint');
    const list = h('ul', { id: listId, role: 'listbox', class: 'suggestions', hidden: true, 'data-testid': 'buyer-suggestions' });
    const search = h('input', {
      id: searchId,
      type: 'text',
      role: 'combobox',
      autocomplete: 'off',
      'aria-autocomplete': 'list',
      'aria-expanded': 'false',
      'aria-controls': listId,
      'aria-describedby': hintId,
      'data-testid': 'buyer-search',
    });
    let options = [];
    let active = -1;
    let latest = 0;

    const close = () => {
      list.hidden = true;
      search.setAttribute('aria-expanded', 'false');
      search.removeAttribute('aria-activedescendant');
      active = -1;
    };
    const highlight = (index) => {
      active = index;
      [...list.children].forEach((li, i) => li.setAttribute('aria-selected', String(i === index)));
      const li = list.children[index];
      if (li?.id) search.setAttribute('aria-activedescendant', li.id);
    };
    const choose = (person) => {
      prospectId = person.id;
      const values = [person.first_name, person.last_name, person.email ?? '', person.phone ?? ''];
      inputs.forEach((input, i) => {
        input.value = values[i];
        input.readOnly = true;
      });
      search.value = fullName(person);
      replace(
        selected,
        t('buyerform.selected', { name: fullName(person) }),
        ' ',
        h('button', { type: 'button', class: 'link-button', 'data-testid': 'buyer-clear', onclick: clearChoice }, t('buyerform.clear')),
      );
      selected.hidden = false;
      close();
    };
    function clearChoice() {
      prospectId = null;
      inputs.forEach((input) => {
        input.readOnly = false;
        input.value = '';
      });
      selected.hidden = true;
      search.value = '';
      search.focus();
    }
    const lookup = debounce(async (q) => {
      const ticket = ++latest;
      let page;
      try {
        page = await api.get('/prospects', { q, limit: 8 });
      } catch {
        return; // suggestions are optional; typing new data still works
      }
      if (ticket !== latest) return;
      options = page.items;
      replace(
        list,
        options.length
          ? options.map((person, i) =>
              h(
                'li',
                { id: `${listId}-${i}`, role: 'option', 'aria-selected': 'false', 'data-testid': 'buyer-suggestion', onmousedown: (e) => e.preventDefault(), onclick: () => choose(person) },
                h('strong', {}, fullName(person)),
                h('span', { class: 'muted' }, [person.email, person.phone].filter(Boolean).join(' · ')),
              ),
            )
          : h('li', { class: 'muted', role: 'option', 'aria-disabled': 'true' }, t('buyerform.no_match')),
      );
      list.hidden = false;
      search.setAttribute('aria-expanded', 'true');
    }, 250);

    search.addEventListener('input', () => {
      if (prospectId) {
        prospectId = null;
        inputs.forEach((input) => (input.readOnly = false));
        selected.hidden = true;
      }
      const q = search.value.trim();
      if (q.length < 2) {
        close();
        return;
      }
      lookup(q);
    });
    search.addEventListener('keydown', (event) => {
      if (list.hidden || !options.length) return;
      if (event.key === 'ArrowDown') {
        event.preventDefault();
        highlight((active + 1) % options.length);
      } else if (event.key === 'ArrowUp') {
        event.preventDefault();
        highlight((active - 1 + options.length) % options.length);
      } else if (event.key === 'Enter' && active >= 0) {
        event.preventDefault();
        choose(options[active]);
      } else if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation(); // close the list, not the dialog around it
        close();
      }
    });
    search.addEventListener('blur', () => setTimeout(close, 150));

    parts.push(
      h(
        'div',
        { class: 'field combobox' },
        h('label', { for: searchId }, t('buyerform.search')),
        search,
        list,
        h('span', { id: hintId, class: 'hint' }, t('buyerform.search_hint')),
      ),
      selected,
    );
  }

  const el = h('div', { class: 'person-form' }, parts, h('div', { class: 'grid-2' }, first, last, email, phone));
  return {
    el,
    prospectId: () => prospectId,
    values: () => {
      const [firstName, lastName, mail, tel] = inputs.map((input) => input.value.trim());
      const body = { first_name: firstName, last_name: lastName };
      if (mail) body.email = mail;
      if (tel) body.phone = tel;
      return body;
    },
  };
}
