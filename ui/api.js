// @ts-check
// The only module that talks to the backend. Everything goes through
// window.ddClient.extension.vm.service (Docker Desktop, or standalone.js
// outside Desktop) and comes back as plain JSON or as an ApiError.

const TIMEOUT_MS = 20000;
// Saving storj-hosted settings registers the grant with Storj's Auth Service.
const SLOW_TIMEOUT_MS = 60000;
// a preview reads every tag of every repository a rule matches, whole: on
// Storj thousands of tags take minutes (its progress shows meanwhile)
const PREVIEW_TIMEOUT_MS = 30 * 60000;

/**
 * A failed call. kind is 'unreachable' (no HTTP answer: the backend is down,
 * the socket is gone, the call timed out, or there is no client at all) or
 * 'http' (the backend answered non-2xx; status, code, message and, for
 * validation errors, field come from its {"error":{...}} body).
 */
export class ApiError extends Error {
  /** @param {{kind: 'unreachable'|'http', status?: number, code?: string, message?: string, field?: string, hint?: string}} o */
  constructor({ kind, status, code, message, field, hint }) {
    super(message || 'Request failed');
    this.name = 'ApiError';
    this.kind = kind;
    this.status = status;
    this.code = code || '';
    this.field = field || '';
    this.hint = hint || '';
  }
  get unreachable() {
    return this.kind === 'unreachable';
  }
}

/** @returns {DdHttpService} */
function service() {
  const svc = window.ddClient?.extension?.vm?.service;
  if (!svc) {
    throw new ApiError({
      kind: 'unreachable',
      code: 'no-client',
      message: 'This page has no connection to the extension’s backend (Docker Desktop’s extension client is missing).',
    });
  }
  return svc;
}

/* Docker Desktop >= 4.42 may wrap answers as {data, status, headers}; older
 * versions give the parsed body; some give the body text. */
/** @param {any} res @returns {any} */
export function unwrap(res) {
  if (res && typeof res === 'object' && 'data' in res && 'status' in res && 'headers' in res) res = res.data;
  if (typeof res === 'string') {
    if (res.trim() === '') return null;
    try {
      return JSON.parse(res);
    } catch {
      return res;
    }
  }
  return res === undefined ? null : res;
}

/** @param {unknown} body @returns {any} */
function parseBody(body) {
  if (body && typeof body === 'object') return body;
  if (typeof body !== 'string') return null;
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}

/* Turn whatever the client rejected with into an ApiError. A ServiceError is
 * {name, message: <response body>, statusCode}; a transport failure has no
 * statusCode. */
/** @param {any} err @returns {ApiError} */
export function toApiError(err) {
  if (err instanceof ApiError) return err;
  const status = err?.statusCode ?? err?.status ?? err?.response?.status;
  const raw = err?.message ?? err?.data ?? err?.body ?? (typeof err === 'string' ? err : '');
  if (status === undefined || status === null || status === 0) {
    const text = typeof raw === 'string' && raw ? raw : 'no answer';
    return new ApiError({ kind: 'unreachable', message: `The backend did not answer (${text}).` });
  }
  const body = parseBody(raw) ?? parseBody(err?.data);
  const e = body?.error;
  if (e && typeof e === 'object') {
    return new ApiError({ kind: 'http', status, code: e.code, message: e.message, field: e.field, hint: e.hint });
  }
  if (typeof body?.message === 'string') return new ApiError({ kind: 'http', status, message: body.message });
  // An answer without our JSON body: Desktop could not reach the socket.
  const transport = typeof raw === 'string' && /ECONNREFUSED|ENOENT|ECONNRESET|EPIPE|socket hang up/.test(raw);
  if (status === 502 || status === 503 || status === 504 || transport) {
    return new ApiError({ kind: 'unreachable', status, message: `The backend did not answer (HTTP ${status}).` });
  }
  let text = typeof raw === 'string' ? raw.trim() : '';
  if (!text || /^<(!doctype|html)/i.test(text)) text = `The backend answered HTTP ${status}.`;
  else if (text.length > 300) text = `${text.slice(0, 300)}…`;
  return new ApiError({ kind: 'http', status, message: text });
}

/**
 * @param {'GET'|'POST'|'PUT'|'DELETE'} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {number} [timeoutMs]
 * @returns {Promise<any>}
 */
async function call(method, path, body, timeoutMs = TIMEOUT_MS) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {Promise<never>} */
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ApiError({ kind: 'unreachable', code: 'timeout', message: `The backend did not answer within ${Math.round(timeoutMs / 1000)} seconds.` }),
        ),
      timeoutMs,
    );
  });
  try {
    const svc = service();
    let p;
    if (method === 'GET') p = svc.get(path);
    else if (method === 'POST') p = svc.post(path, body ?? {});
    else if (method === 'PUT') p = svc.put(path, body ?? {});
    else if (method === 'DELETE') p = svc.delete(path);
    else throw new Error(`unsupported method ${method}`);
    return unwrap(await Promise.race([p, timeout]));
  } catch (err) {
    throw toApiError(err);
  } finally {
    clearTimeout(timer);
  }
}

/* Repository names keep their slashes; digests their colon. */
/** @param {string} s */
function pathOf(s) {
  return String(s)
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(/%3A/gi, ':'))
    .join('/');
}

export const api = {
  /** @returns {Promise<{ok?: boolean, version?: string}>} */
  health: () => call('GET', '/api/health'),
  /** @returns {Promise<Status>} */
  status: () => call('GET', '/api/status'),
  /** @returns {Promise<Config>} */
  getConfig: () => call('GET', '/api/config'),
  /** body: settings to change; a secret left out keeps its saved value. @param {object} body @returns {Promise<Config>} */
  putConfig: (body) => call('PUT', '/api/config', body, SLOW_TIMEOUT_MS),
  /** @returns {Promise<Status>} */
  start: () => call('POST', '/api/registry/start', {}),
  /** @returns {Promise<Status>} */
  stop: () => call('POST', '/api/registry/stop', {}),
  /** @returns {Promise<Status>} */
  restart: () => call('POST', '/api/registry/restart', {}),
  /** @param {boolean} purge @returns {Promise<Status>} */
  remove: (purge) => call('DELETE', purge ? '/api/registry?purge=true' : '/api/registry'),
  /** @returns {Promise<{lines?: LogLine[]}>} */
  logs: (tail = 200) => call('GET', `/api/registry/logs?tail=${encodeURIComponent(tail)}`),
  /**
   * What the running registry holds (409 when it is not running): the
   * repositories offset .. offset+limit-1; the answer's nextOffset names the next page.
   * registry 'cache': what the Docker Hub cache holds (409 cache_not_running when it does not run).
   * index: from the backend's index (push and pull times, at once) instead of the registry.
   * @param {number} [offset] @param {number} [limit] @param {'pushed' | 'cache'} [registry] @param {boolean} [index] @returns {Promise<Repositories>}
   */
  repositories: (offset = 0, limit = 1000, registry = 'pushed', index = false) =>
    call(
      'GET',
      `/api/repositories?${registry === 'cache' ? 'registry=cache&' : index ? 'source=index&' : ''}offset=${encodeURIComponent(offset)}&limit=${encodeURIComponent(limit)}`,
      undefined,
      SLOW_TIMEOUT_MS,
    ),
  /** One image: each platform's layers and labels (409 when the registry is not running). @param {string} name @param {string} digest @returns {Promise<ImageDetail>} */
  image: (name, digest) => call('GET', `/api/repositories/${pathOf(name)}/manifests/${pathOf(digest)}`, undefined, SLOW_TIMEOUT_MS),
  /** Deletes one image and every tag that points at it. @param {string} name @param {string} digest */
  deleteImage: (name, digest) => call('DELETE', `/api/repositories/${pathOf(name)}/manifests/${pathOf(digest)}`),
  /** Clean-up (garbage collection); 202, the result arrives as status.lastGc. @returns {Promise<Status>} */
  gc: () => call('POST', '/api/registry/gc', {}),
  /** @returns {Promise<any>} the clean-up rules with lastRun and nextRun */
  getRetention: () => call('GET', '/api/retention'),
  /** @param {object} body */
  putRetention: (body) => call('PUT', '/api/retention', body),
  /** what the rules would delete now: from the index (index: at once, as of its last reading) or reading every repository @param {object} body @param {boolean} [index] */
  previewRetention: (body, index = false) => call('POST', index ? '/api/retention/preview?source=index' : '/api/retention/preview', body, PREVIEW_TIMEOUT_MS),
  applyRetention: () => call('POST', '/api/retention/apply', {}),
  /**
   * What a grant allows and whether it suits a registry in a mode; fields
   * left out fall back to the saved settings.
   * @param {{accessGrant?: string, bucket?: string, mode?: string, unencryptedKeys?: boolean}} body
   * @returns {Promise<GrantInfo>}
   */
  inspectGrant: (body) => call('POST', '/api/grant/inspect', body),
  /**
   * Storage check with the saved settings (202; runs as the job "check",
   * the result is status.lastCheck). createBucket: create a missing bucket first.
   * @param {boolean} [createBucket]
   * @returns {Promise<Status>}
   */
  checkStorage: (createBucket = false) => call('POST', '/api/storage/check', createBucket ? { createBucket: true } : {}, SLOW_TIMEOUT_MS),
  /** The registry's users (names only) and whether logins are on. @returns {Promise<UsersInfo>} */
  users: () => call('GET', '/api/users'),
  /**
   * Adds a user; without a password one is generated and answered once.
   * @param {string} name @param {string} [password] @returns {Promise<UserChange>}
   */
  addUser: (name, password) => call('POST', '/api/users', password ? { name, password } : { name }),
  /** New password (typed, or generated and answered once). @param {string} name @param {string} [password] @returns {Promise<UserChange>} */
  resetPassword: (name, password) => call('PUT', `/api/users/${encodeURIComponent(name)}/password`, password ? { password } : {}),
  /** @param {string} name @returns {Promise<UserChange>} */
  removeUser: (name) => call('DELETE', `/api/users/${encodeURIComponent(name)}`),
  /**
   * "Run this for my team": the saved settings as deployment files.
   * @param {{format: string, replicas: number, port: number, includeSecrets: boolean}} body
   * @returns {Promise<{format: string, replicas: number, port: number, includeSecrets: boolean, files: {path: string, mode: string, secret: boolean, content: string}[]}>}
   */
  teamExport: (body) => call('POST', '/api/team/export', body),
};
