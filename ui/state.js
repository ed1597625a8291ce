// @ts-check
// State and polling: what the backend said last, the app's own flags, the
// status poller, and a small hub so that the other modules (actions,
// images, logs, the form) react to changes without importing each other.

import { api } from './api.js';

const POLL_FAST_MS = 1000; // pulling / starting / a job
const POLL_SLOW_MS = 5000; // a stable state
const POLL_DOWN_MS = 15000; // backend unreachable
const UI_KEY = 'storj-registry.ui.v1'; // non-secret view preferences

/**
 * @typedef {{kind: 'not-running', code?: string} | {kind: 'loading'} | {kind: 'error', message: string} | {kind: 'data', data: Repositories}} ImagesModel
 * @typedef {{image: string, follow: boolean, logFilter: string}} UiPrefs
 */

export const state = {
  /** @type {Status | null} last GET /api/status answer */
  status: null,
  /** @type {Config | null} last GET/PUT /api/config answer */
  config: null,
  unreachable: false,
  unreachableDetail: '',
  /** @type {import('./api.js').ApiError | null} an HTTP error answer to GET /api/status */
  statusError: null,
  /** @type {string | null} 'start' | 'stop' | 'restart' | 'remove' | 'save' | 'check' | 'gc' */
  busy: null,
  /** the settings form is open over a configured registry */
  editing: false,
  /** @type {ImagesModel} */
  images: { kind: 'not-running' },
  /** @type {'pushed' | 'cache'} which registry the stored images list shows */
  imagesSource: /** @type {'pushed' | 'cache'} */ ('pushed'),
  imagesLoading: false,
  /** @type {LogLine[]} */
  logs: [],
  logsLoaded: false,
  /** @type {Finding[]} from PUT /api/config */
  saveWarnings: [],
  /** @type {UiPrefs} */
  ui: loadUiPrefs(),
};

/** @returns {UiPrefs} */
function loadUiPrefs() {
  try {
    const v = JSON.parse(sessionStorage.getItem(UI_KEY) || '{}');
    return { image: typeof v.image === 'string' ? v.image : '', follow: v.follow === true, logFilter: typeof v.logFilter === 'string' ? v.logFilter : '' };
  } catch {
    return { image: '', follow: false, logFilter: '' };
  }
}

export function saveUiPrefs() {
  try {
    sessionStorage.setItem(UI_KEY, JSON.stringify(state.ui));
  } catch {
    /* ignore */
  }
}

/* ---------- the hub ---------- */

/** @type {Array<() => void>} */
const renderers = [];
/** @type {Array<(before: Status | null) => void>} */
const statusListeners = [];
/** @type {Array<(config: Config) => void>} */
const configListeners = [];
let renderQueued = false;

/** @param {() => void} fn */
export function onRender(fn) {
  renderers.push(fn);
}

/** @param {(before: Status | null) => void} fn called after each new status, with the one before */
export function onStatus(fn) {
  statusListeners.push(fn);
}

/** @param {(config: Config) => void} fn */
export function onConfig(fn) {
  configListeners.push(fn);
}

/** Renders once, after the current task: many calls, one pass. */
export function render() {
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(() => {
    renderQueued = false;
    for (const fn of renderers) fn();
  });
}

/** @param {Status} next */
export function setStatus(next) {
  const before = state.status;
  state.status = next;
  state.statusError = null;
  for (const fn of statusListeners) fn(before);
  render();
}

/** @param {Config} config */
export function setConfig(config) {
  const { warnings: _w, ...rest } = config || {};
  state.config = rest;
  for (const fn of configListeners) fn(rest);
  render();
}

/* ---------- derived ---------- */

export function currentState() {
  return state.unreachable ? 'unreachable' : state.status?.state || 'unknown';
}

/** Whether settings are saved (else the tab shows the first-run setup). */
export function isConfigured() {
  const s = state.status;
  if (!s) return false;
  if (typeof s.configured === 'boolean') return s.configured || s.state !== 'not-configured';
  return s.state !== 'not-configured';
}

/** The endpoint of what RUNS (status.endpoint), not of what is saved. */
export function runningEndpoint() {
  if (state.status?.endpoint) return state.status.endpoint;
  return `localhost:${state.config?.port || 9999}`;
}

export function isActive() {
  return ['running', 'unhealthy', 'starting', 'pulling'].includes(state.status?.state || '');
}

/* ---------- reachability ---------- */

/** @param {string} text */
export function announce(text) {
  let live = document.getElementById('sr-announce');
  if (!live) {
    live = document.createElement('div');
    live.id = 'sr-announce';
    live.className = 'visually-hidden';
    live.setAttribute('role', 'status');
    live.setAttribute('aria-live', 'polite');
    document.body.append(live);
  }
  const node = live;
  node.textContent = '';
  setTimeout(() => (node.textContent = text), 30);
}

/** @param {{code?: string, message?: string} | null | undefined} err */
export function markUnreachable(err) {
  const was = state.unreachable;
  state.unreachable = true;
  state.unreachableDetail =
    err?.code === 'no-client'
      ? err.message || ''
      : `${err?.message || 'No answer.'} It may be restarting; if this persists, restart Docker Desktop or reinstall the extension.`;
  if (!was) announce('Cannot reach the Storj Registry backend.');
  render();
}

export function markReachable() {
  if (state.unreachable) announce('Connected to the backend again.');
  state.unreachable = false;
  state.unreachableDetail = '';
}

/* ---------- config ---------- */

/** @type {Promise<void> | null} */
let configLoading = null;
/** @type {(message: string) => void} */
let configErrorSink = () => {};

/** @param {(message: string) => void} fn where a failure to read the settings is shown */
export function onConfigError(fn) {
  configErrorSink = fn;
}

export function loadConfig() {
  if (configLoading) return configLoading;
  configLoading = (async () => {
    try {
      setConfig(await api.getConfig());
      markReachable();
    } catch (err) {
      if (err.unreachable) markUnreachable(err);
      else configErrorSink(`Could not read the saved settings: ${err.message}`);
    } finally {
      configLoading = null;
      render();
    }
  })();
  return configLoading;
}

/* ---------- polling ---------- */

export const poller = {
  /** @type {ReturnType<typeof setTimeout> | null} */
  timer: null,
  inFlight: false,
  again: false,

  delay() {
    if (state.unreachable) return POLL_DOWN_MS;
    const s = state.status?.state;
    return s === 'pulling' || s === 'starting' || state.status?.job ? POLL_FAST_MS : POLL_SLOW_MS;
  },

  schedule() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (document.hidden) return; // resumed by visibilitychange
    this.timer = setTimeout(() => this.poll(), this.delay());
  },

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  },

  async poll() {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.inFlight = true;
    try {
      const next = await api.status();
      const wasDown = state.unreachable;
      markReachable();
      setStatus(next);
      if (wasDown || !state.config) loadConfig();
    } catch (err) {
      if (err.unreachable) markUnreachable(err);
      else {
        // The backend answered with an error: keep the last status, say why.
        markReachable();
        state.statusError = err;
      }
    } finally {
      this.inFlight = false;
      render();
      if (this.again) {
        this.again = false;
        this.poll();
      } else this.schedule();
    }
  },
};
