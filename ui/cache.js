// @ts-check
// The Docker Hub cache (a second, read-only registry in distribution's proxy
// mode on its own port and storage root): its line in the status card (state,
// endpoint, error with its hint), the "Use the Docker Hub cache" card (the
// exact registry-mirrors steps for Docker Desktop and for Docker Engine on
// Linux, a one-off pull), and the checks of its settings the form uses.
// Everything comes from status.cache (null when the cache is off).

import { state, onRender, runningEndpoint } from './state.js';
import { sentence, setTextIfChanged, stateWords } from './view.js';
import { portError, isLoopback, remoteAddress } from './validate.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

export const DOCKER_HUB = 'https://registry-1.docker.io';

/* ---------- settings checks (the backend checks again) ---------- */

/* A duration as the backend takes it for the registry's proxy.ttl ("168h",
 * "1h30m", "90m": whole hours, minutes, seconds), or "0" for never. */
const DURATION = /^(0|([0-9]+[hms])+)$/;

/** @param {string} text */
export function cacheTtlError(text) {
  const s = String(text).trim();
  if (s === '') return 'Choose how long cached images are kept.';
  if (!DURATION.test(s)) return 'Use a duration such as 24h, 168h or 30m, or 0 to keep images forever.';
  return '';
}

/** @param {string} text @param {string} registryPort */
export function cachePortError(text, registryPort) {
  const e = portError(text);
  if (e) return e;
  if (Number(String(text).trim()) === Number(registryPort))
    return `The registry uses port ${registryPort}: the cache needs a port of its own (9998 by default).`;
  return '';
}

/** Hours in a Go duration, or NaN when it has other units. @param {string} ttl */
function hoursOf(ttl) {
  const m = /^([0-9]+)h$/.exec(ttl);
  return m ? Number(m[1]) : NaN;
}

/** "7 days", "1 day", "30 minutes", "forever" for a TTL. @param {string | undefined} ttl */
export function ttlWords(ttl) {
  const t = String(ttl ?? '').trim();
  if (t === '0' || t === '0s') return 'forever';
  const h = hoursOf(t);
  if (Number.isFinite(h)) {
    if (h % 24 === 0) return `${h / 24} day${h === 24 ? '' : 's'}`;
    return `${h} hour${h === 1 ? '' : 's'}`;
  }
  const m = /^([0-9]+)m$/.exec(t);
  if (m) return `${m[1]} minute${m[1] === '1' ? '' : 's'}`;
  return t || '7 days';
}

/* ---------- status ---------- */

/**
 * The cache as GET /api/status describes it, or null when it is off (in the
 * saved settings and in what runs). enabled is false while a cache that was
 * turned off still runs until the next Restart.
 */
export function cacheStatus() {
  const c = state.status?.cache;
  return !state.unreachable && c && typeof c === 'object' ? c : null;
}

/** The cache is on in the saved settings. */
export function cacheEnabled() {
  return cacheStatus()?.enabled !== false && Boolean(cacheStatus());
}

export function cacheRunning() {
  return cacheStatus()?.state === 'running';
}

/** host:port of the cache (what runs). */
export function cacheEndpoint() {
  return cacheStatus()?.endpoint || `localhost:${state.config?.cache?.port || 9998}`;
}

/** "Docker Hub", or the upstream's host. @param {string | undefined} upstream */
export function upstreamName(upstream) {
  const u = String(upstream || DOCKER_HUB);
  if (u.replace(/\/+$/, '') === DOCKER_HUB) return 'Docker Hub';
  try {
    return new URL(u).host;
  } catch {
    return u;
  }
}

/** Where the cache keeps its images, in words. @param {CacheStatus} c */
function storageWords(c) {
  const s = String(c.storage || '');
  const bucket = state.config?.bucket;
  const named = /^bucket (\S+), prefix (\S+)/.exec(s);
  if (named) return `the bucket ${named[1]}, under ${named[2]}`;
  const prefix = /^bucket prefix (\S+)/.exec(s);
  if (prefix) return bucket ? `the bucket ${bucket}, under ${prefix[1]}` : `the bucket, under ${prefix[1]}`;
  const vol = /^volume (\S+)/.exec(s);
  if (vol) return `the Docker volume ${vol[1]}`;
  return s || 'its own storage';
}

/** The cache's error in plain words. @param {ApiErrorBody} err @param {string} endpoint */
function cacheCause(err, endpoint) {
  const msg = String(err.message || '');
  if (/already|in use|port is already allocated/i.test(msg)) return `Another program already uses port ${endpoint.split(':').pop()}: the Docker Hub cache could not start.`;
  return sentence(msg || err.code || 'The Docker Hub cache has a problem');
}

function renderCacheStatus() {
  const c = cacheStatus();
  $('cache-status').hidden = !c;
  if (!c) return;
  const st = ['running', 'unhealthy', 'stopped', 'starting'].includes(c.state || '') ? String(c.state) : 'stopped';
  $('cache-state').dataset.state = st;
  setTextIfChanged($('cache-state-text'), stateWords(st));
  const endpoint = cacheEndpoint();
  setTextIfChanged($('cache-endpoint'), endpoint);
  const fact =
    c.enabled === false
      ? 'turned off: it stops at the next Restart'
      : `from ${upstreamName(c.upstream)} · keeps images ${ttlWords(c.ttl) === 'forever' ? 'forever' : `for ${ttlWords(c.ttl)}`}`;
  setTextIfChanged($('cache-upstream-fact'), fact);
  const err = c.error;
  const showErr = Boolean(err && typeof err === 'object' && (err.message || err.code));
  $('cache-error').hidden = !showErr;
  if (showErr) {
    setTextIfChanged($('cache-error-message'), cacheCause(err, endpoint));
    const hint = sentence(err.hint || '');
    setTextIfChanged($('cache-error-hint'), hint);
    $('cache-error-hint').hidden = !hint;
    setTextIfChanged($('cache-error-raw'), [err.code ? `code: ${err.code}` : '', err.message ? `message: ${err.message}` : ''].filter(Boolean).join('\n'));
  }
}

/* ---------- the "Use the Docker Hub cache" card ---------- */

/** @param {string} id @param {string} text */
function setText(id, text) {
  setTextIfChanged($(id), text);
}

/** @param {Array<string | Node>} parts */
function li(...parts) {
  const n = document.createElement('li');
  n.append(...parts);
  return n;
}

/** @param {string} text */
function code(text) {
  const n = document.createElement('code');
  n.textContent = text;
  return n;
}

let lastNotes = '';

/**
 * Off loopback the cache asks for the registry's logins (on loopback for
 * none): what other machines run to pull through it, and what their Docker
 * needs to trust it (its certificate with TLS, insecure-registries
 * without). null while it listens on this machine only. bind: the address
 * it listens on (status, what runs; 0.0.0.0 shows as localhost in the
 * endpoint).
 * @param {string} endpoint @param {boolean} tls @param {string | undefined} runBind
 */
function remoteCache(endpoint, tls, runBind) {
  const bind = String(runBind || state.config?.bind || '127.0.0.1');
  if (isLoopback(bind)) return null;
  const addr = remoteAddress(bind, endpoint.split(':').pop() || '9998');
  return li(
    'Other machines pull through it by name, logged in as a registry user (Access › Users): ',
    code(`docker login ${addr}`),
    ', then ',
    code(`docker pull ${addr}/library/alpine`),
    '. ',
    ...(tls
      ? ['Their Docker trusts it once the certificate of the authority that signed the registry’s certificate (the certificate itself when it is self-signed) is in ', code(`/etc/docker/certs.d/${addr}/ca.crt`), ' (Docker Desktop on macOS: ', code(`~/.docker/certs.d/${addr}/ca.crt`), ').']
      : ['Their Docker needs ', code(addr), ' in ', code('insecure-registries'), ', as for the registry.']),
    addr.startsWith('THIS-MACHINE') ? ' THIS-MACHINE: this machine’s address on your network.' : '',
  );
}

function renderCacheCard() {
  const c = cacheStatus();
  $('cache-card').hidden = !cacheEnabled();
  if (!c || !cacheEnabled()) return;
  const endpoint = cacheEndpoint();
  const mirror = c.mirror || `http://${endpoint}`;
  const hub = upstreamName(c.upstream) === 'Docker Hub';
  const from = upstreamName(c.upstream);
  const ttl = ttlWords(c.ttl);
  const where = storageWords(c);
  setText(
    'cache-intro',
    `Docker pulls ${hub ? 'Docker Hub' : from} images through the cache at ${endpoint}: the first pull of an image fetches it from ${from} and keeps it in ${where}; later pulls are served from there, also when ${from} is slow, down or rate-limited.`,
  );
  setText('cache-cmd-mirror', `"registry-mirrors": ["${mirror}"]`);
  setText('cache-cmd-daemon', `{\n  "registry-mirrors": [${JSON.stringify(mirror)}]\n}`);
  setText('cache-cmd-pull', `docker pull ${endpoint}/library/alpine`);
  const registry = runningEndpoint();
  const notes = [
    li(
      hub ? 'Mirrors apply to Docker Hub images only: ' : `The upstream is ${from}, not Docker Hub, but Docker uses mirrors for Docker Hub images only: pull its images as `,
      ...(hub ? [code('docker pull alpine'), ' and ', code('docker pull bitnami/redis'), ' go through the cache; ', code('ghcr.io/…'), ' or ', code('quay.io/…'), ' images are pulled from their own registry.'] : [code(`docker pull ${endpoint}/NAME:TAG`), '.']),
    ),
    li('The cache is read-only: push your own images to ', code(registry), ', not to ', code(endpoint), '.'),
    li(`Stored in ${where}. `, ttl === 'forever' ? 'Cached images are kept until you remove them.' : `An image is kept for ${ttl} after it was fetched, then fetched again on its next pull.`),
  ];
  const remote = remoteCache(endpoint, mirror.startsWith('https:'), c.bind);
  if (remote) notes.push(remote);
  if (c.state !== 'running') notes.push(li('The cache runs while the registry runs: Start or Restart it at the top of the tab.'));
  // rebuilt only when the words change (a poll must not reset a selection)
  const key = notes.map((n) => n.textContent).join('\n');
  if (key !== lastNotes) {
    lastNotes = key;
    $('cache-notes').replaceChildren(...notes);
  }
}

export function bindCache() {
  onRender(() => {
    renderCacheStatus();
    renderCacheCard();
  });
}
