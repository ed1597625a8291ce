// @ts-check
// Logs: the registry's (and gateway's) recent lines in their own fold,
// without the backend's /v2/ health probes. While the registry runs, a
// manifest PUT seen in the lines means a push: the stored images refresh.

import { currentSection, onSection } from './sections.js';
import { api } from './api.js';
import { state, onStatus, markUnreachable, render, saveUiPrefs, currentState } from './state.js';
import { toast } from './desktop.js';
import { el } from './view.js';
import { loadImages } from './images.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

const LOG_TAIL = 300;
const WATCH_MS = 4000; // how often the lines are read for pushes while running

/**
 * A health probe of the backend: GET /v2/ without a client's user agent
 * (docker's own /v2/ ping names "docker/..." and stays).
 * @param {string} text
 */
export function isProbe(text) {
  const access = /"GET \/v2\/ HTTP\/1\.[01]" \d{3}/.test(text);
  const logrus = /http\.request\.uri="?\/v2\/"?(\s|$)/.test(text) && /http\.request\.method=GET/.test(text);
  if (!access && !logrus) return false;
  return !/docker\/\d|containerd\/|Go-http-client|buildkit/.test(text) || /storj-registryd/.test(text);
}

/**
 * A finished push of a manifest (the last step of docker push).
 * @param {string} text
 */
export function isPush(text) {
  return (
    /"PUT \/v2\/[^"]+\/manifests\/[^" ]+ HTTP\/1\.[01]" 201/.test(text) ||
    (/http\.request\.method=PUT/.test(text) && /http\.request\.uri="?\/v2\/\S+\/manifests\//.test(text) && /http\.response\.status=201/.test(text))
  );
}

/** @param {string} text */
function levelOf(text) {
  const m = /\blevel=(\w+)/.exec(text) || /^\s*(?:\S+\s+)?(ERROR|WARN(?:ING)?|INFO|DEBUG|FATAL|PANIC)\b/i.exec(text);
  const lvl = m ? m[1].toLowerCase() : '';
  if (lvl === 'error' || lvl === 'fatal' || lvl === 'panic') return 'error';
  if (lvl === 'warning' || lvl === 'warn') return 'warn';
  return '';
}

/** The Logs section is on screen. */
function shown() {
  return currentSection() === 'logs' && !$('panel-logs').hidden && !$('view-overview').hidden;
}

/** @param {{emptyText?: string}} [o] */
export function renderLogs({ emptyText } = {}) {
  const box = $('logs');
  const filter = state.ui.logFilter;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 24;
  const lines = state.logs.filter((l) => !isProbe(l.text || ''));
  const shown = filter ? lines.filter((l) => l.container === filter) : lines;
  if (shown.length === 0) {
    const text = lines.length && filter ? `No lines from the ${filter} container.` : emptyText || 'No log lines yet.';
    box.replaceChildren(el('p', { class: 'logs-empty' }, text));
    return;
  }
  const frag = document.createDocumentFragment();
  for (const l of shown) {
    const level = levelOf(l.text || '');
    frag.append(
      el(
        'div',
        { class: `log-line${l.stream === 'stderr' ? ' stderr' : ''}${level ? ` level-${level}` : ''}` },
        el('span', { class: 'log-src', dataset: { c: l.container || '' } }, l.container || ''),
        el('span', { class: 'log-text' }, l.text ?? ''),
      ),
    );
  }
  box.replaceChildren(frag);
  if (atBottom || box.dataset.scrolled !== 'yes') {
    box.scrollTop = box.scrollHeight;
    box.dataset.scrolled = 'yes';
  }
}

let loading = false;
/** @type {{quiet: boolean} | null} a load asked for while one was in flight */
let again = null;
/** pushes seen so far (by their line text), so that only new ones refresh the images */
let pushKey = '';
let lastWatch = 0;

/** @param {{quiet?: boolean}} [o] */
export async function loadLogs({ quiet = false } = {}) {
  if (loading) {
    again = { quiet: quiet && (again?.quiet ?? true) };
    return;
  }
  loading = true;
  lastWatch = Date.now();
  const btn = /** @type {HTMLButtonElement} */ ($('btn-logs'));
  if (!quiet) {
    btn.classList.add('busy');
    btn.disabled = true;
  }
  try {
    const res = await api.logs(LOG_TAIL);
    state.logs = Array.isArray(res?.lines) ? res.lines : [];
    state.logsLoaded = true;
    notePushes();
    const none = currentState() === 'not-configured' || !(state.status?.containers || []).length;
    renderLogs({ emptyText: none ? 'No log lines yet. Start the registry to see its output here.' : 'No log lines yet.' });
    const time = new Date().toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    $('logs-meta').textContent = `Last ${LOG_TAIL} lines · updated ${time}`;
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    else if (err.status === 404 || err.status === 409) {
      state.logs = [];
      state.logsLoaded = true;
      renderLogs({ emptyText: 'No log lines yet. Start the registry to see its output here.' });
      $('logs-meta').textContent = '';
    } else $('logs-meta').textContent = `Could not read the logs: ${err.message}`;
    if (!quiet) toast('error', `Could not read the logs: ${err.message}`);
  } finally {
    loading = false;
    btn.classList.remove('busy');
    btn.disabled = false;
    if (again) {
      const next = again;
      again = null;
      loadLogs(next);
    }
  }
}

/** A push the images list has not seen yet refreshes it. */
function notePushes() {
  const pushes = state.logs.filter((l) => l.container === 'registry' || !l.container).map((l) => l.text || '').filter(isPush);
  const key = `${pushes.length}|${pushes[pushes.length - 1] || ''}`;
  const first = pushKey === '';
  if (key !== pushKey) {
    pushKey = key;
    if (!first && pushes.length) loadImages();
  }
}

export function bindLogs() {
  $('btn-logs').addEventListener('click', () => loadLogs());
  onSection((name) => {
    if (name === 'logs') loadLogs({ quiet: true });
  });
  const follow = /** @type {HTMLInputElement} */ ($('logs-follow'));
  follow.checked = state.ui.follow;
  follow.addEventListener('change', () => {
    state.ui.follow = follow.checked;
    saveUiPrefs();
    if (follow.checked) loadLogs({ quiet: true });
  });
  const filter = /** @type {HTMLSelectElement} */ ($('logs-filter'));
  filter.value = state.ui.logFilter;
  filter.addEventListener('change', () => {
    state.ui.logFilter = filter.value;
    saveUiPrefs();
    renderLogs();
  });

  onStatus((before) => {
    const now = state.status?.state;
    if (now === 'not-configured' || document.hidden) return;
    const changed = before && before.state !== now;
    const following = shown() && state.ui.follow;
    const watching = now === 'running' && Date.now() - lastWatch >= WATCH_MS;
    if (!state.logsLoaded || changed || following || watching) loadLogs({ quiet: true });
    render();
  });
}
