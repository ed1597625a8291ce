// @ts-check
// Actions: save (and start), the Start/Stop toggle, Restart, the storage
// check and creating a missing bucket. Each one marks state.busy, calls the
// backend, says what happened, and asks the poller for the new status.

import { api } from './api.js';
import { state, render, poller, setStatus, setConfig, markReachable, markUnreachable, isActive, announce, onStatus } from './state.js';
import { toast } from './desktop.js';
import { setFormError } from './view.js';
import { inspectSoon } from './grant.js';

/** @type {import('./form.js').SettingsForm} */
let form;

/** @param {import('./form.js').SettingsForm} f */
export function initActions(f) {
  form = f;
}

/**
 * Saves the form; resolves true when the backend accepted it.
 * @param {{quiet?: boolean}} [o]
 */
export async function save({ quiet = false } = {}) {
  form.clearErrors();
  const skipChecks = window.__storjRegistrySkipClientChecks === true;
  const bad = skipChecks ? '' : form.checkAll();
  if (bad) {
    setFormError('Fix the highlighted fields, then save again.');
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
    state.saveWarnings = warnings;
    form.configured = true;
    form.clearSecrets();
    form.clearDraft();
    if (saved && typeof saved === 'object') setConfig(saved);
    form.fill(state.config || {}, { force: true });
    inspectSoon('config');
    if (!quiet) toast('success', isActive() ? 'Settings saved. Restart the registry to apply them.' : 'Settings saved.');
    return true;
  } catch (err) {
    if (err.unreachable) {
      markUnreachable(err);
      toast('error', 'Settings not saved: the backend does not answer.');
    } else if (err.field) {
      const shown = form.showServerFieldError(err.field, err.message);
      if (!shown) setFormError(`${err.field}: ${err.message}`);
      toast('error', `Settings not saved: ${err.message}`);
    } else {
      setFormError(err.message);
      toast('error', `Settings not saved: ${err.message}`);
    }
    return false;
  } finally {
    if (!wasBusy) state.busy = null;
    render();
    poller.poll();
  }
}

/**
 * Saves the Docker Hub cache's switch and fields from its own section: the
 * same PUT /api/config the storage form used for it, with only the "cache"
 * member (the backend merges member by member). Nothing typed is lost when
 * the backend refuses it; its message goes beside the field it names.
 */
export async function saveCache() {
  if (state.busy) return;
  form.clearCacheErrors();
  const cache = form.cacheBody();
  if (cache === undefined) return; // off, and off in the saved settings
  const skipChecks = window.__storjRegistrySkipClientChecks === true;
  const bad = skipChecks || !form.cacheOn() ? '' : form.checkAll('cache');
  const errBox = document.getElementById('cache-form-error');
  /** @param {string} m */
  const formError = (m) => {
    if (!errBox) return;
    errBox.textContent = m;
    errBox.hidden = !m;
  };
  if (bad) {
    formError('Fix the highlighted fields, then save again.');
    form.input(bad).focus();
    return;
  }
  state.busy = 'save-cache';
  render();
  try {
    const saved = await api.putConfig({ cache });
    markReachable();
    form.input('cache.token').value = '';
    if (saved && typeof saved === 'object') setConfig(saved);
    form.discardCache();
    const msg = cache.enabled
      ? isActive() ? 'Docker Hub cache saved: Restart to apply it.' : 'Docker Hub cache saved: it starts with the registry.'
      : isActive() ? 'Docker Hub cache turned off: it stops at the next Restart.' : 'Docker Hub cache turned off.';
    toast('success', msg);
    announce(msg);
  } catch (err) {
    if (err.unreachable) {
      markUnreachable(err);
      formError('Not saved: the backend does not answer.');
    } else if (err.field) {
      const shown = form.showServerFieldError(err.field, err.message);
      if (!shown) formError(`${err.field}: ${err.message}`);
      toast('error', `Docker Hub cache not saved: ${err.message}`);
    } else {
      formError(err.message);
      toast('error', `Docker Hub cache not saved: ${err.message}`);
    }
  } finally {
    state.busy = null;
    render();
    poller.poll();
  }
}

/**
 * The form's one button: "Save and start" on a first run, "Save" when
 * editing. Leaves the form for the overview once saved.
 */
export async function submit() {
  if (state.busy) return;
  const firstRun = !form.configured || !isActive();
  state.busy = firstRun ? 'start' : 'save';
  render();
  try {
    const ok = await save({ quiet: firstRun });
    if (!ok) return;
    state.editing = false;
    if (firstRun) await call('start');
  } finally {
    state.busy = null;
    render();
  }
}

const ACTIONS = {
  start: { call: () => api.start(), done: 'Starting the registry…', verb: 'start' },
  stop: { call: () => api.stop(), done: 'Registry stopped. Your images are kept.', verb: 'stop' },
  restart: { call: () => api.restart(), done: 'Restarting the registry…', verb: 'restart' },
};

/** @param {'start' | 'stop' | 'restart'} name */
async function call(name) {
  const a = ACTIONS[name];
  try {
    const res = await a.call();
    markReachable();
    if (res && typeof res === 'object' && typeof res.state === 'string') setStatus(res);
    toast('success', a.done);
    announce(a.done);
  } catch (err) {
    if (err.unreachable) {
      markUnreachable(err);
      toast('error', `Could not ${a.verb} the registry: the backend does not answer.`);
    } else toast('error', `Could not ${a.verb} the registry: ${err.message}`);
  } finally {
    poller.poll();
  }
}

/** @param {'start' | 'stop' | 'restart'} name */
export async function act(name) {
  if (state.busy) return;
  state.busy = name;
  render();
  try {
    await call(name);
  } finally {
    state.busy = null;
    render();
  }
}

/** The single Start/Stop button. */
export function toggle() {
  const s = state.status?.state;
  const job = state.status?.job;
  act(isActive() || job === 'start' || s === 'starting' ? 'stop' : 'start');
}

/**
 * Runs the storage check (with the saved settings); createBucket first
 * creates a missing bucket. The result arrives as status.lastCheck.
 * @param {boolean} [createBucket]
 */
export async function check(createBucket = false) {
  if (state.busy) return;
  // a start that failed on a missing bucket goes on once the bucket exists
  startAfterCheck = createBucket && state.status?.state === 'failed' && state.status?.error?.code === 'storage_check_failed';
  checkAtBefore = state.status?.lastCheck?.at || '';
  state.busy = createBucket ? 'create-bucket' : 'check';
  render();
  try {
    const res = await api.checkStorage(createBucket);
    markReachable();
    if (res && typeof res === 'object' && typeof res.state === 'string') setStatus(res);
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    else if (err.code === 'not_applicable') toast('warning', err.message || 'There is nothing to check in this storage mode.');
    else toast('error', `Could not check the storage: ${err.message}`);
  } finally {
    state.busy = null;
    render();
    poller.poll();
  }
}

let startAfterCheck = false;
let checkAtBefore = '';
onStatus(() => {
  const c = state.status?.lastCheck;
  if (!startAfterCheck || state.status?.job === 'check' || !c || (c.at || '') === checkAtBefore) return;
  startAfterCheck = false;
  if (state.status?.lastCheck?.ok) act('start');
});
