// The one door to the gateway API: the token, JSON in and out, errors as ApiError.

const BASE = '/api/v1';
const TOKEN_KEY = 'nyprod.token';

export const session = {
  token: readToken(),
  user: null, // {username, role}
};

function readToken() {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token) {
  session.token = token;
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage unavailable: the token lives in memory only
  }
}

export function canWrite() {
  return session.user?.role === 'admin' || session.user?.role === 'agent';
}

export class ApiError extends Error {
  constructor(status, body) {
    super(status ? `HTTP ${status}` : 'network error');
    this.status = status; // 0 when the server could not be reached
    this.body = body;
  }

  get reason() {
    return this.body && typeof this.body === 'object' ? this.body.reason : undefined;
  }

  get detail() {
    return this.body && typeof this.body === 'object' ? this.body.detail : undefined;
  }

  // The body fields a 422 complains about, e.g. ["email", "phone"].
  get fields() {
    if (this.status !== 422 || !Array.isArray(this.detail)) return [];
    const names = this.detail
      .map((item) => (Array.isArray(item.loc) ? item.loc.filter((part) => typeof part === 'string' && part !== 'body' && part !== 'query' && part !== 'path') : []))
      .map((parts) => parts[0])
      .filter(Boolean);
    return [...new Set(names)];
  }
}

const unauthorizedListeners = new Set();

export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export async function request(method, path, { query, body, headers = {}, signal } = {}) {
  const url = new URL(BASE + path, window.location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, value);
  }
  const sent = { Accept: 'application/json', ...headers };
  if (session.token) sent.Authorization = `Bearer ${session.token}`;
  let payload;
  if (body !== undefined) {
    sent['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, { method, headers: sent, body: payload, signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, null);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && path !== '/auth/token') {
      for (const fn of unauthorizedListeners) fn(error);
    }
    throw error;
  }
  return data;
}

export const api = {
  get: (path, query, options) => request('GET', path, { query, ...options }),
  post: (path, body, options) => request('POST', path, { body, ...options }),
  patch: (path, body, options) => request('PATCH', path, { body, ...options }),
  put: (path, body, options) => request('PUT', path, { body, ...options }),
  del: (path, options) => request('DELETE', path, options),
};

export function streamUrl() {
  return `${BASE}/stream?access_token=${encodeURIComponent(session.token ?? '')}`;
}
