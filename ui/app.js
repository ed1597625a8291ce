// Wiring: polls the backend, runs the actions, and hands state to view.js.
// Everything the tab shows is derived from `state` below and re-rendered by
// render(); the settings form keeps its own values (form.js).

import { api } from './api.js';
import { watchTheme } from './theme.js';
import { toast, openExternal, copyText } from './desktop.js';
import { SettingsForm, secretIsSet } from './form.js';
import * as view from './view.js';
import { bucketError } from './validate.js';

const $ = (id) => document.getElementById(id);

const POLL_FAST_MS = 1000; // pulling / starting
const POLL_SLOW_MS = 5000; // a stable state
const POLL_DOWN_MS = 15000; // backend unreachable
const GRANT_DEBOUNCE_MS = 450;
const LOG_TAIL = 200;
const UI_KEY = 'storj-registry.ui.v1'; // non-secret view preferences

const state = {
  status: null, // last GET /api/status answer
  config: null, // last GET/PUT /api/config answer
  unreachable: false,
  unreachableDetail: '',
  statusError: null, // an HTTP error answer to GET /api/status
  busy: null, // 'start' | 'stop' | 'restart' | 'remove' | 'save' | null
  logs: [],
  logsLoaded: false,
  images: { kind: 'not-running' }, // what GET /api/repositories said
  imagesLoading: false,
  grantWarnings: [], // from POST /api/grant/inspect
  saveWarnings: [], // from PUT /api/config
  ui: loadUiPrefs(),
};

let form;

/* ---------- helpers ---------- */

function loadUiPrefs() {
  try {
    const v = JSON.parse(sessionStorage.getItem(UI_KEY) || '{}');
    return { image: typeof v.image === 'string' ? v.image : '', follow: v.follow === true, logFilter: typeof v.logFilter === 'string' ? v.logFilter : '' };
  } catch {
    return { image: '', follow: false, logFilter: '' };
  }
}

function saveUiPrefs() {
  try {
    sessionStorage.setItem(UI_KEY, JSON.stringify(state.ui));
  } catch {
    /* ignore */
  }
}

function announce(text) {
  let live = $('sr-announce');
  if (!live) {
    live = view.el('div', { id: 'sr-announce', class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
    document.body.append(live);
  }
  live.textContent = '';
  setTimeout(() => (live.textContent = text), 30);
}

function currentState() {
  return state.unreachable ? 'unreachable' : state.status?.state || 'unknown';
}

function endpoint() {
  if (state.status?.endpoint) return state.status.endpoint;
  const port = state.config?.port || 9999;
  return `localhost:${port}`;
}

/* ---------- render ---------- */

function render() {
  view.renderBanner(state.unreachable, state.unreachableDetail);
  view.renderStatus(state.status, { unreachable: state.unreachable, statusError: state.statusError });
  const dirty = form.isDirty();
  $('dirty-flag').hidden = !dirty;
  $('btn-discard').hidden = !dirty;
  view.renderActions({
    state: currentState(),
    busy: state.busy,
    unreachable: state.unreachable,
    dirty,
    hasContainers: Array.isArray(state.status?.containers) && state.status.containers.length > 0,
    pendingRestart: state.status?.pendingRestart === true,
  });
  view.renderHowto({ endpoint: endpoint(), image: state.ui.image, bind: state.config?.bind, running: currentState() === 'running' });
  renderWarnings();
  const running = currentState() === 'running' && !state.status?.job;
  $('btn-images').disabled = !running || state.imagesLoading;
  $('btn-images').classList.toggle('busy', state.imagesLoading);
  $('btn-gc').disabled = !running || Boolean(state.busy);
  $('btn-gc').classList.toggle('busy', state.busy === 'gc' || state.status?.job === 'gc');
  view.renderImagesMeta(state.status?.lastGc);
}

function renderWarnings() {
  const seen = new Set();
  const all = [...state.saveWarnings, ...state.grantWarnings].filter((w) => {
    const k = `${w.code}|${w.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  // Next to the grant field when it is on screen, else above the Save button.
  const grantShown = form.fieldActive('accessGrant');
  view.renderWarnings('grant-warnings', grantShown ? all : []);
  view.renderWarnings('save-warnings', grantShown ? [] : state.saveWarnings);
}

/* ---------- backend unreachable ---------- */

function markUnreachable(err) {
  const was = state.unreachable;
  state.unreachable = true;
  state.unreachableDetail =
    err?.code === 'no-client'
      ? err.message
      : `${err?.message || 'No answer.'} It may be restarting; if this persists, restart Docker Desktop or reinstall the extension.`;
  if (!was) announce('Cannot reach the Storj Registry backend.');
}

function markReachable() {
  if (state.unreachable) announce('Connected to the backend again.');
  state.unreachable = false;
  state.unreachableDetail = '';
}

/* ---------- polling ---------- */

const poller = {
  timer: null,
  inFlight: false,
  again: false,

  delay() {
    if (state.unreachable) return POLL_DOWN_MS;
    const s = state.status?.state;
    return s === 'pulling' || s === 'starting' || state.status?.job ? POLL_FAST_MS : POLL_SLOW_MS;
  },

  schedule() {
    clearTimeout(this.timer);
    this.timer = null;
    if (document.hidden) return; // resumed by visibilitychange
    this.timer = setTimeout(() => this.poll(), this.delay());
  },

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
  },

  async poll() {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.inFlight = true;
    const before = state.status?.state;
    const beforeJob = state.status?.job;
    try {
      state.status = await api.status();
      state.statusError = null;
      afterStatus(before, beforeJob);
      const wasDown = state.unreachable;
      markReachable();
      if (wasDown || !state.config) loadConfig();
      if (!state.logsLoaded || (state.ui.follow && state.status?.state !== 'not-configured')) loadLogs({ quiet: true });
      else if (before && before !== state.status?.state) loadLogs({ quiet: true });
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

/* Reacts to changes between two status answers. */
function afterStatus(before, beforeJob) {
  const now = state.status?.state;
  const job = state.status?.job;
  if (beforeJob === 'gc' && job !== 'gc') {
    const g = state.status?.lastGc;
    if (g) toast(g.ok ? 'success' : 'error', `Clean-up ${g.ok ? 'done' : 'failed'}: ${g.message || ''}`.trim());
  }
  if (now === 'running' && !job && (before !== 'running' || beforeJob)) loadImages();
  else if (now !== 'running' && state.images.kind !== 'not-running' && !job) {
    state.images = { kind: 'not-running' };
    view.renderImages(state.images, { endpoint: endpoint() });
  }
}

/* ---------- stored images ---------- */

async function loadImages() {
  if (state.imagesLoading) return;
  state.imagesLoading = true;
  if (state.images.kind !== 'data') {
    state.images = { kind: 'loading' };
    view.renderImages(state.images, { endpoint: endpoint() });
  }
  render();
  try {
    state.images = { kind: 'data', data: await api.repositories() };
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    state.images = err.status === 409 ? { kind: 'not-running' } : { kind: 'error', message: err.message };
  } finally {
    state.imagesLoading = false;
    view.renderImages(state.images, { endpoint: endpoint() });
    render();
  }
}

async function deleteImage(name, digest, tags) {
  const list = tags.filter(Boolean);
  const ok = await confirmDialog({
    title: `Delete ${name}:${list[0] || digest.slice(0, 19)}?`,
    body:
      (list.length > 1 ? `The tags ${list.join(', ')} point at the same image and go with it. ` : '') +
      'The image is removed from the registry; its space is freed by the next clean-up.',
    confirm: 'Delete',
  });
  if (!ok) return;
  try {
    await api.deleteImage(name, digest);
    toast('success', `Deleted ${name}:${list.join(', ') || digest}.`);
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    toast('error', `Could not delete ${name}: ${err.message}`);
  }
  loadImages();
}

async function cleanUp() {
  if (state.busy) return;
  const ok = await confirmDialog({
    title: 'Clean up the storage?',
    body: 'The registry stops for a moment, deletes the layers that no image uses any more, and starts again. Pushes and pulls fail meanwhile.',
    confirm: 'Clean up',
  });
  if (!ok) return;
  state.busy = 'gc';
  render();
  try {
    const res = await api.gc();
    if (res && typeof res === 'object' && typeof res.state === 'string') state.status = res;
    toast('success', 'Cleaning up…');
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    toast('error', `Could not clean up: ${err.message}`);
  } finally {
    state.busy = null;
    render();
    poller.poll();
  }
}

/* ---------- config ---------- */

let configLoading = null;
function loadConfig() {
  if (configLoading) return configLoading;
  configLoading = (async () => {
    try {
      state.config = await api.getConfig();
      form.fill(state.config);
      showSavedGrant();
      markReachable();
    } catch (err) {
      if (err.unreachable) markUnreachable(err);
      else view.setFormError(`Could not read the saved settings: ${err.message}`);
    } finally {
      configLoading = null;
      render();
    }
  })();
  return configLoading;
}

function showSavedGrant() {
  if (form.value('accessGrant') !== '') return;
  const g = state.config?.accessGrant;
  if (secretIsSet(g)) view.renderGrantInfo({ saved: { satellite: typeof g === 'object' ? g.satellite : '' } });
  else view.renderGrantInfo(null);
}

/** Saves the form; resolves true when the backend accepted it. */
async function save({ quiet = false } = {}) {
  form.clearErrors();
  const skipChecks = window.__storjRegistrySkipClientChecks === true; // test aid: lets the backend's checks speak
  const bad = skipChecks ? '' : form.checkAll();
  if (bad) {
    view.setFormError('Fix the highlighted fields, then save again.');
    form.input(bad).focus();
    return false;
  }
  const wasBusy = state.busy;
  if (!wasBusy) state.busy = 'save';
  render();
  try {
    const saved = await api.putConfig(form.body());
    markReachable();
    const warnings = Array.isArray(saved?.warnings) ? saved.warnings : [];
    if (saved && typeof saved === 'object') {
      const { warnings: _w, ...config } = saved;
      state.config = config;
    }
    state.saveWarnings = warnings;
    form.clearSecrets();
    form.clearDraft();
    form.fill(state.config, { force: true });
    showSavedGrant();
    state.grantWarnings = [];
    if (!quiet) {
      const running = ['running', 'unhealthy', 'starting', 'pulling'].includes(state.status?.state);
      toast('success', running ? 'Settings saved. Restart the registry to apply them.' : 'Settings saved.');
    }
    if (warnings.length) toast('warning', warnings[0].message || 'Settings saved with warnings.');
    poller.poll();
    return true;
  } catch (err) {
    if (err.unreachable) {
      markUnreachable(err);
      toast('error', 'Settings not saved: the backend does not answer.');
    } else if (err.field) {
      const shown = form.showServerFieldError(err.field, err.message);
      if (!shown) view.setFormError(`${err.field}: ${err.message}`);
      toast('error', `Settings not saved: ${err.message}`);
    } else {
      view.setFormError(err.message);
      toast('error', `Settings not saved: ${err.message}`);
    }
    return false;
  } finally {
    if (!wasBusy) state.busy = null;
    render();
  }
}

/* ---------- grant inspection ---------- */

let grantTimer = null;
let grantSeq = 0;
function onGrantInput(grant) {
  clearTimeout(grantTimer);
  const seq = ++grantSeq;
  state.saveWarnings = [];
  if (!grant) {
    state.grantWarnings = [];
    showSavedGrant();
    renderWarnings();
    return;
  }
  if (form.checkField('accessGrant')) {
    view.renderGrantInfo(null);
    state.grantWarnings = [];
    renderWarnings();
    return;
  }
  view.renderGrantInfo({ loading: true });
  grantTimer = setTimeout(async () => {
    try {
      const bucket = form.value('bucket');
      const info = await api.inspectGrant(grant, form.fieldActive('bucket') && !bucketError(bucket) ? bucket : '');
      if (seq !== grantSeq) return;
      view.setFieldError('accessGrant', '');
      view.renderGrantInfo(info);
      state.grantWarnings = Array.isArray(info?.warnings) ? info.warnings : [];
    } catch (err) {
      if (seq !== grantSeq) return;
      view.renderGrantInfo(null);
      state.grantWarnings = [];
      if (err.unreachable) {
        view.setFieldError('accessGrant', 'Could not check the grant: the backend does not answer.');
        markUnreachable(err);
        render();
      } else view.setFieldError('accessGrant', err.message || 'This is not a valid access grant.');
    }
    renderWarnings();
  }, GRANT_DEBOUNCE_MS);
}

/* ---------- actions ---------- */

const ACTIONS = {
  start: { call: () => api.start(), done: 'Starting the registry…', verb: 'start' },
  stop: { call: () => api.stop(), done: 'Registry stopped. Your images are kept.', verb: 'stop' },
  restart: { call: () => api.restart(), done: 'Restarting the registry…', verb: 'restart' },
};

async function act(name) {
  if (state.busy) return;
  const a = ACTIONS[name];
  state.busy = name;
  render();
  try {
    if ((name === 'start' || name === 'restart') && form.isDirty()) {
      const ok = await save({ quiet: true });
      if (!ok) return;
    }
    const res = await a.call();
    markReachable();
    if (res && typeof res === 'object' && typeof res.state === 'string') state.status = res;
    toast('success', a.done);
  } catch (err) {
    if (err.unreachable) {
      markUnreachable(err);
      toast('error', `Could not ${a.verb} the registry: the backend does not answer.`);
    } else {
      if (err.field) form.showServerFieldError(err.field, err.message);
      toast('error', `Could not ${a.verb} the registry: ${err.message}`);
    }
  } finally {
    state.busy = null;
    render();
    poller.poll();
    setTimeout(() => loadLogs({ quiet: true }), 1500);
  }
}

/* ---------- remove dialog ---------- */

function focusables(root) {
  return [...root.querySelectorAll('button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])')].filter(
    (n) => !n.disabled && n.offsetParent !== null,
  );
}

/** A yes/no question in the confirm dialog; resolves true on confirm. */
function confirmDialog({ title, body, confirm }) {
  const dlg = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-desc').textContent = body;
  $('confirm-ok').textContent = confirm;
  const opener = document.activeElement;
  dlg.returnValue = '';
  dlg.showModal();
  $('confirm-cancel').focus();
  return new Promise((resolve) => {
    dlg.addEventListener(
      'close',
      () => {
        if (opener && document.contains(opener)) opener.focus();
        resolve(dlg.returnValue === 'confirm');
      },
      { once: true },
    );
  });
}

function trapFocus(dlg) {
  dlg.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab') return;
    const f = focusables(dlg);
    if (!f.length) return;
    const first = f[0];
    const last = f[f.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      last.focus();
      e.preventDefault();
    } else if (!e.shiftKey && document.activeElement === last) {
      first.focus();
      e.preventDefault();
    }
  });
  dlg.addEventListener('click', (e) => {
    if (e.target === dlg) dlg.close('cancel'); // a click on the backdrop
  });
}

function openRemoveDialog() {
  if (state.busy) return;
  const dlg = $('remove-dialog');
  $('remove-purge').checked = false;
  const mode = state.status?.mode || state.config?.mode;
  $('remove-desc').textContent =
    mode === 'local' || !mode
      ? 'This stops and deletes the registry’s containers. Your settings are kept, and so are the stored images unless you also delete the volume.'
      : `This stops and deletes the registry’s containers. Your settings are kept, and so are the images in the bucket${state.config?.bucket ? ` “${state.config.bucket}”` : ''}.`;
  dlg.returnValue = '';
  dlg.showModal();
  $('remove-cancel').focus();
}

async function onRemoveClosed() {
  const dlg = $('remove-dialog');
  $('btn-remove').focus();
  if (dlg.returnValue !== 'confirm') return;
  const purge = $('remove-purge').checked;
  state.busy = 'remove';
  render();
  try {
    const res = await api.remove(purge);
    markReachable();
    if (res && typeof res === 'object' && typeof res.state === 'string') state.status = res;
    toast('success', purge ? 'Registry removed, and its local volume deleted.' : 'Registry removed. Your settings are kept.');
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    toast('error', `Could not remove the registry: ${err.message}`);
  } finally {
    state.busy = null;
    render();
    poller.poll();
  }
}

/* ---------- logs ---------- */

let logsLoading = false;
let logsAgain = null; // a load asked for while one was in flight
async function loadLogs({ quiet = false } = {}) {
  if (logsLoading) {
    // the answer in flight may predate what the user wants to see
    logsAgain = { quiet: quiet && (logsAgain?.quiet ?? true) };
    return;
  }
  logsLoading = true;
  const btn = $('btn-logs');
  if (!quiet) {
    btn.classList.add('busy');
    btn.disabled = true;
  }
  try {
    const res = await api.logs(LOG_TAIL);
    state.logs = Array.isArray(res?.lines) ? res.lines : [];
    state.logsLoaded = true;
    const none = currentState() === 'not-configured' || !(state.status?.containers || []).length;
    view.renderLogs(state.logs, state.ui.logFilter, {
      emptyText: none ? 'No log lines yet. Start the registry to see its output here.' : 'No log lines yet.',
    });
    const time = new Date().toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    view.renderLogsMeta(`Last ${LOG_TAIL} lines, secrets redacted by the backend · updated ${time}`);
  } catch (err) {
    if (err.unreachable) {
      markUnreachable(err);
      render();
    } else if (err.status === 404 || err.status === 409) {
      state.logs = [];
      state.logsLoaded = true;
      view.renderLogs([], '', { emptyText: 'No log lines yet. Start the registry to see its output here.' });
      view.renderLogsMeta('');
    } else view.renderLogsMeta(`Could not read the logs: ${err.message}`);
    if (!quiet) toast('error', `Could not read the logs: ${err.message}`);
  } finally {
    logsLoading = false;
    btn.classList.remove('busy');
    btn.disabled = false;
    if (logsAgain) {
      const next = logsAgain;
      logsAgain = null;
      loadLogs(next);
    }
  }
}

/* ---------- events ---------- */

function bind() {
  $('btn-start').addEventListener('click', () => act('start'));
  $('btn-stop').addEventListener('click', () => act('stop'));
  $('btn-restart').addEventListener('click', () => act('restart'));
  $('btn-remove').addEventListener('click', openRemoveDialog);

  const dlg = $('remove-dialog');
  dlg.addEventListener('close', onRemoveClosed);
  trapFocus(dlg);
  trapFocus($('confirm-dialog'));

  $('btn-images').addEventListener('click', () => loadImages());
  $('btn-gc').addEventListener('click', cleanUp);
  $('images').addEventListener('click', async (e) => {
    const pull = e.target.closest('[data-pull]');
    const del = e.target.closest('[data-delete]');
    if (pull) {
      try {
        await copyText(pull.dataset.pull);
        toast('success', `Copied: ${pull.dataset.pull}`);
      } catch {
        toast('error', 'Could not copy: select the command and copy it by hand.');
      }
    } else if (del) {
      deleteImage(del.dataset.delete, del.dataset.digest, (del.dataset.tags || '').split(','));
    }
  });

  $('settings').addEventListener('submit', (e) => {
    e.preventDefault();
    if (!state.busy) save();
  });
  $('btn-discard').addEventListener('click', () => {
    form.discard();
    state.grantWarnings = [];
    showSavedGrant();
    render();
    announce('Unsaved changes discarded.');
  });

  $('banner-retry').addEventListener('click', async () => {
    view.renderRetryBusy(true);
    try {
      await poller.poll();
      if (!state.unreachable && !state.config) await loadConfig();
      if (!state.unreachable) loadLogs({ quiet: true });
    } finally {
      view.renderRetryBusy(false);
    }
  });

  $('btn-logs').addEventListener('click', () => loadLogs());
  const follow = $('logs-follow');
  follow.checked = state.ui.follow;
  follow.addEventListener('change', () => {
    state.ui.follow = follow.checked;
    saveUiPrefs();
    if (follow.checked) loadLogs({ quiet: true });
  });
  const filter = $('logs-filter');
  filter.value = state.ui.logFilter;
  filter.addEventListener('change', () => {
    state.ui.logFilter = filter.value;
    saveUiPrefs();
    view.renderLogs(state.logs, state.ui.logFilter);
  });

  const image = $('howto-image');
  image.value = state.ui.image;
  image.addEventListener('input', () => {
    state.ui.image = image.value;
    saveUiPrefs();
    render();
  });

  for (const btn of document.querySelectorAll('[data-copy]')) {
    const label = btn.getAttribute('aria-label');
    btn.addEventListener('click', async () => {
      const text = $(btn.dataset.copy).textContent;
      try {
        await copyText(text);
        btn.classList.add('copied');
        btn.setAttribute('aria-label', 'Copied');
        announce('Copied to the clipboard.');
        setTimeout(() => {
          btn.classList.remove('copied');
          btn.setAttribute('aria-label', label);
        }, 1600);
      } catch {
        toast('error', 'Could not copy: select the command and copy it by hand.');
      }
    });
  }

  for (const a of document.querySelectorAll('a.ext-link')) {
    a.addEventListener('click', (e) => {
      e.preventDefault();
      openExternal(a.href);
    });
  }

  document.addEventListener('visibilitychange', () => {
    if (document.hidden) poller.stop();
    else {
      poller.poll();
      // the user may have pushed from a terminal meanwhile
      if (state.images.kind === 'data') loadImages();
    }
  });
}

/* ---------- start ---------- */

function init() {
  watchTheme();
  form = new SettingsForm({ onChange: render, onGrantInput });
  form.restoreDraft();
  bind();
  render();
  api.health().then(view.renderVersion, () => {});
  loadConfig();
  poller.poll();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
