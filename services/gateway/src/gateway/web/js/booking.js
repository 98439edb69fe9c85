// BOKA and Avboka: the confirm popup, the booking request, and waiting for its outcome.

import { api } from './api.js';
import { openDialog } from './dialog.js';
import { fullName, h, replace, uid, uuid4 } from './dom.js';
import { describeError, reasonText } from './errors.js';
import { area, money, number, text } from './format.js';
import { t } from './i18n.js';
import { noteUnitStatus } from './live.js';
import { notify } from './notices.js';

const FINAL = new Set(['confirmed', 'rejected', 'cancelled']);

// Waits for a booking to end (the gateway holds each request up to `wait` seconds).
export async function awaitBooking(bookingId, onStillPending, rounds = 3) {
  let booking = null;
  for (let round = 0; round < rounds; round += 1) {
    booking = await api.get(`/bookings/${bookingId}`, { wait: 10 });
    if (FINAL.has(booking.status)) return booking;
    onStillPending?.(booking);
  }
  return booking;
}

export function outcomeText(booking, names) {
  if (booking.status === 'confirmed') return { kind: 'success', title: t('book.confirmed'), text: t('book.confirmed_text', names) };
  if (booking.status === 'rejected') return { kind: 'error', title: reasonText(booking.reason), text: '' };
  if (booking.status === 'cancelled') return { kind: 'info', title: t('book.cancelled'), text: '' };
  return { kind: 'info', title: t('book.waiting'), text: t('book.pending_long') };
}

function unitFacts(unit) {
  const rows = [
    [t('col.unit'), text(unit.name)],
    [t('field.rooms'), number(unit.rooms)],
    [t('col.area'), area(unit.living_area_sqm)],
    [t('field.floor'), number(unit.floor)],
    [t('col.price'), money(unit.price_sek)],
  ];
  return h('dl', { class: 'facts', 'data-testid': 'book-unit-facts' }, rows.map(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]));
}

// Opens "Vill du boka?" for one unit; resolves with the final booking (or null) on close.
export function bookUnit({ prospect, unitId, unitName }) {
  return new Promise((resolve) => {
    const idempotencyKey = uuid4(); // a retried OK must not book twice
    const prospectName = fullName(prospect);
    let result = null;
    let names = { unit: unitName ?? '', prospect: prospectName };
    const facts = h('div', { class: 'dialog-facts' }, h('p', { class: 'muted' }, t('app.loading')));
    const question = h('p', { 'data-testid': 'book-question' }, t('book.for', names));
    const outcomeId = uid('book-outcome');
    const outcome = h('div', { id: outcomeId, class: 'outcome', role: 'status', 'aria-live': 'polite', 'data-testid': 'book-outcome' });
    const cancel = h('button', { type: 'button', class: 'button', 'data-testid': 'book-dialog-cancel', onclick: () => ref.close() }, t('action.cancel'));
    const ok = h('button', { type: 'button', class: 'button primary', 'data-testid': 'book-dialog-ok', 'aria-describedby': outcomeId, onclick: confirm }, t('action.ok'));

    const ref = openDialog({
      title: t('book.title'),
      testid: 'book-dialog',
      body: [question, facts, outcome],
      actions: [cancel, ok],
      initialFocus: ok,
      onClose: () => resolve(result),
    });

    api.get(`/units/${unitId}`).then(
      (unit) => {
        names = { unit: unit.name, prospect: prospectName };
        question.textContent = t('book.for', names);
        replace(facts, unitFacts(unit));
      },
      (error) => replace(facts, h('p', { class: 'muted' }, describeError(error))),
    );

    function show(kind, title, detail, state) {
      outcome.className = `outcome outcome-${kind}`;
      outcome.dataset.outcome = state;
      replace(outcome, h('strong', {}, title), detail ? h('span', {}, ` ${detail}`) : null);
    }

    function finish() {
      const close = h('button', { type: 'button', class: 'button primary', 'data-testid': 'book-dialog-close', onclick: () => ref.close() }, t('action.close'));
      replace(ref.footer, close);
      close.focus();
    }

    async function confirm() {
      ok.disabled = true;
      cancel.textContent = t('action.close');
      show('info', t('book.busy'), '', 'busy');
      let started;
      try {
        // the gateway answers once the booking is final (or after 10 s, still pending)
        started = await api.post(
          '/bookings',
          { prospect_id: prospect.id, unit_id: unitId },
          { query: { wait: 10 }, headers: { 'Idempotency-Key': idempotencyKey } },
        );
      } catch (error) {
        show('error', describeError(error), '', 'error');
        ok.disabled = false;
        ok.textContent = t('action.retry');
        return;
      }
      try {
        const booking = FINAL.has(started.status)
          ? started
          : await awaitBooking(started.booking_id, () => show('info', t('book.waiting'), '', 'pending'));
        result = booking;
        const words = outcomeText(booking, names);
        show(words.kind, words.title, words.text, booking.status);
        if (booking.reason) outcome.dataset.reason = booking.reason;
        if (booking.status === 'confirmed') noteUnitStatus(unitId, 'booked');
      } catch (error) {
        result = { booking_id: started.booking_id, status: 'pending' };
        show('info', t('book.pending_long'), describeError(error), 'pending');
      }
      if (ref.isOpen()) finish();
    }
  });
}

// Avboka: asks for a reason, then runs `submit(reason)`. Resolves true when it went through.
export function cancelDialog({ unitName, submit }) {
  return new Promise((resolve) => {
    let done = false;
    const id = uid('cancel-reason');
    const hintId = uid('cancel-hint');
    const reason = h('textarea', { id, name: 'reason', rows: 3, maxlength: 1000, 'aria-describedby': hintId, 'data-testid': 'cancel-reason' });
    const message = h('div', { role: 'alert', class: 'outcome', 'data-testid': 'cancel-outcome' });
    const go = h('button', { type: 'submit', class: 'button danger', 'data-testid': 'cancel-confirm' }, t('cancel.confirm'));
    const back = h('button', { type: 'button', class: 'button', 'data-testid': 'cancel-back', onclick: () => ref.close() }, t('action.cancel'));
    const form = h(
      'form',
      { class: 'stack', onsubmit: send },
      h('p', {}, t('cancel.question', { unit: unitName })),
      h('div', { class: 'field' }, h('label', { for: id }, t('cancel.reason')), reason, h('span', { id: hintId, class: 'hint' }, t('cancel.reason_hint'))),
      message,
    );
    go.setAttribute('form', (form.id = uid('cancel-form')));
    const ref = openDialog({ title: t('cancel.title'), testid: 'cancel-dialog', body: [form], actions: [back, go], initialFocus: reason, onClose: () => resolve(done) });

    async function send(event) {
      event.preventDefault();
      go.disabled = true;
      replace(message);
      try {
        await submit(reason.value.trim() || undefined);
        done = true;
        notify(t('cancel.done'), 'success');
        ref.close();
      } catch (error) {
        message.className = 'outcome outcome-error';
        replace(message, describeError(error));
        go.disabled = false;
      }
    }
  });
}
