// api: the HTTP API with the session's token; the session lives in sessionStorage only.
const KEY = 'hotline.session';

export function session() {
  try { return JSON.parse(sessionStorage.getItem(KEY)); } catch (e) { return null; }
}

export function saveSession(s) { sessionStorage.setItem(KEY, JSON.stringify(s)); }
export function clearSession() { sessionStorage.removeItem(KEY); }

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || ('HTTP ' + status));
    this.status = status;
    this.code = body && body.error && body.error.code;
    this.field = body && body.error && body.error.field;
  }
}

export function authHeaders() {
  const s = session();
  return s && s.token ? {Authorization: 'Bearer ' + s.token} : {};
}

// Reports and case searches run on the server's slow-read lane, a few at once per user (429
// beyond): this tab sends them one at a time.
const SLOW_READ = /^\/v1\/(reports\/|cases(\?|$))/;
let slowQueue = Promise.resolve();

// api('POST', '/v1/cases', body) -> parsed JSON; throws ApiError (status 0: no connection).
export function api(method, path, body) {
  if (method !== 'GET' || !SLOW_READ.test(path)) return send(method, path, body);
  const run = slowQueue.then(() => send(method, path, body));
  slowQueue = run.catch(() => null);
  return run;
}

async function send(method, path, body) {
  const headers = authHeaders();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let r;
  try {
    r = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (e) {
    throw new ApiError(0, null);
  }
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (r.status === 401 && path !== '/v1/login' && session()) {
    clearSession();
    location.hash = '#/login';
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

// Query string from an object, skipping empty values.
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}

let departmentNames = null;

// code -> Chinese name of every department (loaded once).
export async function departments() {
  if (!departmentNames) {
    const d = await api('GET', '/v1/departments');
    departmentNames = new Map(d.items.map((x) => [x.code, x.name]));
  }
  return departmentNames;
}

export function deptName(names, code) {
  return code ? (names && names.get(code)) || code : '待派单';
}

let routeList = null;

// True when the server answers a route starting with "METHOD /path" (GET /v1/routes, once):
// aids of newer servers are used where they exist, never probed for a 404.
export async function hasRoute(prefix) {
  if (!routeList) routeList = api('GET', '/v1/routes').then((r) => r.items).catch(() => []);
  return (await routeList).some((r) => r === prefix || r.startsWith(prefix + '/'));
}
