// One EventSource per tab on the gateway's stream. Pages subscribe to unit, booking and
// buyer changes; after a reconnect they are told to fetch again, since events were missed.

import { api, session, streamUrl } from './api.js';

const EVENT_TYPES = ['unit.status', 'unit.changed', 'booking.status', 'buyers.changed'];

const bus = new EventTarget();
let source = null;
let state = 'off'; // off | connecting | live | reconnecting
let retryDelay = 1000;
let retryTimer = null;

// The newest status the stream reported per unit / booking. While the stream is up it is
// at least as fresh as another service's copy (e.g. the unit status on a customer card).
const unitStatuses = new Map();
const bookingStatuses = new Map();

export function liveState() {
  return state;
}

export function knownUnitStatus(unitId) {
  return state === 'live' ? unitStatuses.get(unitId) : undefined;
}

export function knownBookingStatus(bookingId) {
  return state === 'live' ? bookingStatuses.get(bookingId) : undefined;
}

// What this tab itself just learned (e.g. a confirmed booking means a booked unit).
export function noteUnitStatus(unitId, status) {
  unitStatuses.set(unitId, status);
  bus.dispatchEvent(new CustomEvent('unit.status', { detail: { unit_id: unitId, status } }));
}

export function on(type, fn) {
  const listener = (event) => fn(event.detail);
  bus.addEventListener(type, listener);
  return () => bus.removeEventListener(type, listener);
}

export function startLive() {
  stopLive();
  connect(false);
}

export function stopLive() {
  clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
  unitStatuses.clear();
  bookingStatuses.clear();
  setState('off');
}

function setState(next) {
  if (state === next) return;
  state = next;
  bus.dispatchEvent(new CustomEvent('state', { detail: next }));
}

function connect(isRetry) {
  if (!session.token) return;
  setState(isRetry ? 'reconnecting' : 'connecting');
  const es = new EventSource(streamUrl());
  source = es;
  es.addEventListener('open', () => {
    if (source !== es) return;
    retryDelay = 1000;
    // Whatever happened while we were not listening is unknown: start the picture afresh.
    unitStatuses.clear();
    bookingStatuses.clear();
    setState('live');
    bus.dispatchEvent(new CustomEvent('resync', { detail: {} }));
  });
  es.addEventListener('error', () => {
    if (source !== es) return;
    setState('reconnecting');
    // EventSource retries by itself after a dropped connection, but gives up for good on
    // an HTTP error (e.g. an expired token or a 503): then we retry with a growing pause.
    if (es.readyState === EventSource.CLOSED) {
      es.close();
      source = null;
      scheduleRetry();
    }
  });
  for (const type of EVENT_TYPES) es.addEventListener(type, (event) => receive(type, event.data));
  // A stream that sends unnamed messages carrying their own type is understood too.
  es.addEventListener('message', (event) => {
    const data = parse(event.data);
    if (data && EVENT_TYPES.includes(data.type)) receive(data.type, data.data ?? data.payload ?? data);
  });
}

function scheduleRetry() {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(async () => {
    if (!session.token) return;
    try {
      await api.get('/auth/me'); // a 401 here logs the user out instead of retrying forever
    } catch (error) {
      if (error.status === 401) return;
    }
    if (session.token && !source) connect(true);
  }, retryDelay);
  retryDelay = Math.min(retryDelay * 2, 10000);
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function receive(type, raw) {
  const data = typeof raw === 'string' ? parse(raw) : raw;
  if (!data || typeof data !== 'object') return;
  if (type === 'unit.status' && data.unit_id) unitStatuses.set(data.unit_id, data.status);
  if (type === 'booking.status' && data.booking_id) bookingStatuses.set(data.booking_id, data.status);
  bus.dispatchEvent(new CustomEvent(type, { detail: data }));
}
