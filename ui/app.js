// @ts-check
// Wiring: builds the form, binds every control, and renders the view the
// state calls for: the first-run setup card, the settings form opened with
// Edit, or the overview (status, commands, stored images, storage summary,
// containers, logs). State and polling live in state.js; the actions,
// dialogs, images, logs and grant checks in their own modules.

import { api } from './api.js';
import { watchTheme } from './theme.js';
import { toast, openExternal, copyText, desktopNavigate, navigate } from './desktop.js';
import { SettingsForm, secretIsSet } from './form.js';
import { state, onRender, onStatus, onConfig, onConfigError, render, poller, loadConfig, currentState, isConfigured, runningEndpoint, isActive, announce, saveUiPrefs } from './state.js';
import { el, modeLabel, stateWords, setTextIfChanged, sentence, formatBytes, plainCause, hintFor, renderHint, renderSteps, renderWarnings, setFormError, renderVersion } from './view.js';
import { initActions, submit, saveCache, toggle, act, check } from './actions.js';
import { bindDialogs } from './dialogs.js';
import { isLoopback } from './validate.js';
import { bindImages, renderImages } from './images.js';
import { bindCleanup, cleanupMarker } from './cleanup.js';
import { bindSections, setMarker, openPush, openTeam, openHelp, showSection } from './sections.js';
import { bindLogs } from './logs.js';
import { bindTeam } from './team.js';
import { initGrant, inspectSoon, bindFindings, renderFindings } from './grant.js';
import { bindUsers, renderUsersState } from './users.js';
import { bindCache, ttlWords, upstreamName, cacheEnabled, cacheStatus } from './cache.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const button = (/** @type {string} */ id) => /** @type {HTMLButtonElement} */ (document.getElementById(id));

/** @type {SettingsForm} */
let form;

/* ---------- which view ---------- */

/** @returns {'loading' | 'setup' | 'overview'} */
function currentView() {
  if (!state.status) return 'loading';
  if (!isConfigured() || state.editing) return 'setup';
  return 'overview';
}

let lastView = '';

function renderView() {
  const v = currentView();
  $('view-setup').hidden = v !== 'setup';
  $('view-overview').hidden = v !== 'overview';
  // first run is the setup card alone; once configured the header holds the actions
  const configured = v !== 'loading' && isConfigured();
  $('header-actions').hidden = !configured;
  $('header-endpoint').hidden = !configured;
  setTextIfChanged($('endpoint-text'), configured ? runningEndpoint() : '');
  if (v !== lastView) {
    document.documentElement.dataset.view = v;
    // the control that was used is gone: focus goes to the new view's heading
    const lost = !document.activeElement || document.activeElement === document.body || document.activeElement.closest('[hidden]');
    if (lastView && lastView !== 'loading' && lost) (v === 'setup' ? $('setup-heading') : /** @type {HTMLElement} */ ($('sections').querySelector('[aria-selected=true]') || $('state-summary'))).focus();
    lastView = v;
  }
}

/* ---------- header and banner ---------- */

/** The state as the badge shows it: a job in progress reads better than the state it leaves. */
function shownState() {
  const st = currentState();
  if (state.unreachable) return st;
  const JOB_STATES = { stop: 'stopping', remove: 'removing', gc: 'cleaning', check: 'checking', retention: 'applying' };
  const job = state.status?.job || '';
  const phase = state.status?.phase || '';
  // the clean-up of a free-space run or of the rules: read-only meanwhile
  if ((job === 'gc' || job === 'retention') && (phase === 'read-only' || phase === 'collecting')) return 'read-only';
  return /** @type {Record<string,string>} */ (JOB_STATES)[job] || st;
}

function renderHeader() {
  const shown = shownState();
  const badge = $('state-badge');
  badge.dataset.state = shown;
  setTextIfChanged($('state-text'), stateWords(shown));
  $('banner').hidden = !state.unreachable;
  if (state.unreachable) setTextIfChanged($('banner-detail'), state.unreachableDetail);
}

/* ---------- setup / edit ---------- */

function renderSetup() {
  const configured = isConfigured();
  form.configured = configured;
  const editing = configured && state.editing;
  setTextIfChanged($('setup-heading'), editing ? 'Storage settings' : 'Set up your registry');
  $('setup-intro').hidden = editing;
  const dirty = form.isDirty();
  $('dirty-flag').hidden = !(dirty && editing);
  $('btn-cancel-edit').hidden = !editing;
  const active = isActive();
  const label = editing && active ? 'Save' : 'Save and start';
  const save = button('btn-save');
  setTextIfChanged(/** @type {HTMLElement} */ (save.querySelector('.btn-label')), label);
  save.classList.toggle('busy', state.busy === 'save' || state.busy === 'start');
  save.disabled = Boolean(state.busy) || state.unreachable || (editing && !dirty);
  // the saved-grant warnings appear with the findings when the grant is on screen
  renderWarnings('save-warnings', form.fieldActive('accessGrant') ? [] : state.saveWarnings);
}

/* ---------- overview: status ---------- */

/** @param {PendingChange} pc */
function pendingWords(pc) {
  const fields = Array.isArray(pc.fields) ? pc.fields : [];
  const parts = [];
  const port = /:(\d+)$/.exec(pc.endpoint || '')?.[1];
  for (const f of fields) {
    if (f === 'cache' || f.startsWith('cache.')) {
      const words = f === 'cache.enabled' ? 'Docker Hub cache on or off' : 'Docker Hub cache settings';
      if (!parts.includes(words)) parts.push(words);
    } else if (f === 'port' && port) parts.push(`new port ${port}`);
    else if (f === 'bind') parts.push(`new listen address${pc.endpoint ? ` (${pc.endpoint})` : ''}`);
    else if (f === 'mode') parts.push(`storage ${modeLabel(pc.mode)}`);
    else if (f === 'bucket') parts.push('new bucket');
    else if (f === 'accessGrant') parts.push('new access grant');
    else if (f === 'unencryptedKeys') parts.push('object key encryption');
    else if (f) parts.push(`new ${f.replace(/^s3\./, 'S3 ')}`);
  }
  return parts.length ? parts.join(', ') : 'new settings';
}

const SUMMARY = {
  'not-configured': () => 'Not set up yet.',
  stopped: () => ((state.status?.containers || []).length ? 'Stopped. Your images are kept; Start serves them again.' : 'Ready to start.'),
  pulling: () => 'Downloading the images the registry needs…',
  starting: () => 'Starting the containers and waiting for the registry to answer…',
  running: () => 'Ready for docker push and pull.',
  unhealthy: () => 'The registry’s container is up but does not answer.',
  failed: () => 'The registry is not running.',
  unreachable: () => 'The extension’s backend does not answer, so the registry’s state is unknown.',
  stopping: () => 'Stopping the registry…',
  removing: () => 'Removing the registry’s containers…',
  cleaning: () => 'Cleaning up: the registry restarts read-only while unused layers are deleted, then runs as before.',
  applying: () =>
    state.status?.phase === 'deleting'
      ? 'Applying the clean-up rules: deleting the images they select. Pushes and pulls keep working; the registry goes read-only for the clean-up after this.'
      : 'Applying the clean-up rules: reading what the registry holds. Pushes and pulls keep working.',
  'read-only': () => 'Read-only while cleaning up: pulls keep working, pushes are refused until it is done (a few minutes at most).',
  checking: () => 'Checking the storage…',
  unknown: () => 'Asking the backend for the registry’s state…',
};

function lastCheck() {
  const c = state.status?.lastCheck;
  return c && typeof c === 'object' ? c : null;
}

/** The failed start came from the storage check: its steps explain it. */
function checkFailedStart() {
  const err = state.status?.error;
  return currentState() === 'failed' && err?.code === 'storage_check_failed';
}

function renderStatus() {
  const st = state.status;
  const shown = shownState();
  const summary = (/** @type {Record<string, () => string>} */ (SUMMARY)[shown] || (() => `State: ${shown}`))();
  setTextIfChanged($('state-summary'), summary);

  // progress while pulling
  const prog = st?.progress;
  const showProgress = !state.unreachable && st?.state === 'pulling' && prog && typeof prog === 'object';
  $('progress').hidden = !showProgress;
  if (showProgress) {
    const cur = Number(prog.current) || 0;
    const total = Number(prog.total) || 0;
    const fill = $('progress-fill');
    const bar = $('progress-bar');
    $('progress-image').textContent = prog.image || '';
    if (total > 0) {
      const pct = Math.max(0, Math.min(100, Math.round((cur / total) * 100)));
      fill.classList.remove('indeterminate');
      fill.style.width = `${pct}%`;
      bar.setAttribute('aria-valuenow', String(pct));
      bar.setAttribute('aria-valuetext', `${formatBytes(cur)} of ${formatBytes(total)}`);
      $('progress-numbers').textContent = `${formatBytes(cur)} of ${formatBytes(total)} · ${pct}%`;
    } else {
      fill.classList.add('indeterminate');
      fill.style.width = '';
      bar.removeAttribute('aria-valuenow');
      bar.setAttribute('aria-valuetext', cur > 0 ? `${formatBytes(cur)} downloaded` : 'Waiting');
      $('progress-numbers').textContent = cur > 0 ? `${formatBytes(cur)} downloaded` : 'Waiting…';
    }
  }

  // the saved settings could not be read: say so, and what to do, above the setup card
  const sp = !state.unreachable ? st?.settingsProblem : null;
  $('settings-problem').hidden = !sp;
  if (sp) {
    setTextIfChanged($('settings-problem-message'), sentence(sp.message || 'The saved settings could not be read'));
    const what = isConfigured() ? 'Open Settings, press Edit and enter them again.' : 'Enter your settings again below and save them.';
    setTextIfChanged($('settings-problem-hint'), `${what} The unreadable file is kept in the extension’s state folder${sp.keptAs ? ` as ${sp.keptAs}` : ''}.`);
    setTextIfChanged($('settings-problem-raw'), [sp.code ? `code: ${sp.code}` : '', sp.detail || ''].filter(Boolean).join('\n'));
  }

  // saved, not applied
  const active = isActive();
  const pc = st?.pendingChange;
  const pending = !state.unreachable && active && (pc || st?.pendingRestart === true);
  $('pending-change').hidden = !pending;
  if (pending) {
    const text = `Saved, not applied: ${pc ? pendingWords(pc) : 'new settings'} — Restart to apply.`;
    setTextIfChanged($('pending-text'), text);
  }

  // a failure: the plain cause first, the raw error under Details
  const err = st?.error;
  const showErr = !state.unreachable && err && typeof err === 'object' && (err.message || err.code) && st?.state !== 'running';
  $('status-error').hidden = !showErr;
  const fromCheck = checkFailedStart();
  if (showErr) {
    const port = String(state.config?.port || '');
    setTextIfChanged($('status-error-message'), plainCause(err, { port }));
    const hint = hintFor(err);
    renderHint($('status-error-hint'), hint);
    $('status-error-hint').hidden = !hint || fromCheck;
    const steps = $('status-error-steps');
    if (fromCheck) renderSteps(steps, lastCheck()?.steps, err.message);
    else steps.hidden = true;
    const raw = [err.code ? `code: ${err.code}` : '', err.message ? `message: ${err.message}` : '', err.detail || err.raw || ''].filter(Boolean).join('\n');
    setTextIfChanged($('status-error-raw'), raw);
  }

  // one primary action: Create bucket > Restart > Start; Stop is never primary
  const busy = state.busy;
  const job = st?.job;
  const canCreate = fromCheck && lastCheck()?.canCreateBucket === true;
  const create = button('btn-create-bucket');
  create.hidden = !canCreate;
  create.disabled = Boolean(busy || job) || state.unreachable;
  create.classList.toggle('busy', busy === 'create-bucket' || (job === 'check' && canCreate));

  // Restart whenever it runs (the hints name it), primary with a pending change
  const restart = button('btn-restart');
  restart.hidden = !pending && !(active && !state.unreachable);
  restart.disabled = Boolean(busy || job) || state.unreachable;
  restart.classList.toggle('busy', busy === 'restart' || job === 'restart');
  restart.className = `btn ${pending && !canCreate ? 'btn-primary' : 'btn-outlined'}${restart.classList.contains('busy') ? ' busy' : ''}`;

  const stopping = active || st?.state === 'starting' || job === 'start';
  const toggleBtn = button('btn-toggle');
  const label = stopping ? 'Stop' : 'Start';
  setTextIfChanged(/** @type {HTMLElement} */ (toggleBtn.querySelector('.btn-label')), label);
  toggleBtn.setAttribute('aria-label', `${label} the registry`);
  const primary = !stopping && !canCreate && !pending;
  const tbusy = busy === 'start' || busy === 'stop' || job === 'stop' || job === 'start';
  toggleBtn.className = `btn ${primary ? 'btn-primary' : 'btn-outlined'}${tbusy ? ' busy' : ''}`;
  toggleBtn.disabled =
    state.unreachable || Boolean(busy) || job === 'remove' || job === 'gc' || job === 'check' || job === 'stop' || st?.state === 'not-configured' || st?.docker?.reachable === false;
}

/* ---------- overview: commands ---------- */

function renderCommands() {
  const endpoint = runningEndpoint(); // what RUNS: a pending port change waits for Restart
  const image = state.ui.image.trim();
  const name = image ? image.replace(/^[^/]+\.[^/]+\//, '').replace(/^localhost:\d+\//, '') : 'IMAGE';
  const target = `${endpoint}/${image ? name : 'NAME'}`;
  setTextIfChanged($('cmd-tag'), `docker tag ${image || 'IMAGE'} ${target}`);
  setTextIfChanged($('cmd-push'), `docker push ${target}`);
  setTextIfChanged($('cmd-pull'), `docker pull ${target}`);
  const bind = state.config?.bind || '127.0.0.1';
  const local = /^127\./.test(bind) || bind === '::1';
  const running = currentState() === 'running';
  const note = !running
    ? 'The commands work once the registry runs.'
    : local
      ? 'Only this computer can reach the registry.'
      : `Other machines reach it through this computer’s address on port ${endpoint.split(':').pop()}, after docker login (a user from Access).`;
  setTextIfChanged($('howto-note'), note);
}

/* ---------- overview: storage summary and check ---------- */

function renderSummary() {
  const c = state.config;
  const dl = $('summary');
  if (!c) {
    dl.replaceChildren();
    return;
  }
  const mode = c.mode || 'local';
  /** @type {Array<[string, any]>} */
  const rows = [['Stored in', modeLabel(mode)]];
  if (mode !== 'local' && c.bucket) rows.push(['Bucket', el('span', { class: 'mono' }, c.bucket)]);
  if (mode === 's3' || mode === 'storj-hosted') {
    if (c.s3?.endpoint) rows.push(['Endpoint', el('span', { class: 'mono' }, c.s3.endpoint)]);
  }
  const g = c.accessGrant;
  if ((mode === 'storj' || mode === 'storj-native' || (mode === 'storj-hosted' && c.s3?.fromGrant !== false)) && secretIsSet(g)) {
    const sat = g && typeof g === 'object' ? g.satellite : '';
    rows.push(['Access grant', sat ? `saved · ${sat}` : 'saved']);
  }
  if ((mode === 'storj' || mode === 'storj-hosted') && c.unencryptedKeys) rows.push(['Object keys', 'unencrypted (names visible to the satellite)']);
  if (mode === 'local') rows.push(['Volume', el('span', { class: 'mono' }, 'storj-registry-data')]);
  const bind = c.bind || '127.0.0.1';
  if (!isLoopback(bind)) rows.push(['Reachable', `from other machines (${bind})`]);
  if (c.cache?.enabled) {
    const ttl = ttlWords(c.cache.ttl);
    rows.push(['Hub cache', `port ${c.cache.port || 9998} · from ${upstreamName(c.cache.upstream)} · ${ttl === 'forever' ? 'kept forever' : `kept ${ttl}`}`]);
  }
  dl.replaceChildren(...rows.map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', {}, v))));

  // the storage check: S3-based modes only
  const checkable = mode === 's3' || mode === 'storj' || mode === 'storj-hosted';
  $('check-box').hidden = !checkable;
  if (!checkable) return;
  const job = state.status?.job;
  const chk = lastCheck();
  const running = job === 'check' || state.busy === 'check' || state.busy === 'create-bucket';
  const btn = button('btn-check');
  btn.classList.toggle('busy', running);
  btn.disabled = running || Boolean(state.busy) || Boolean(job) || state.unreachable;
  const fromCheck = checkFailedStart();
  const create2 = button('btn-create-bucket-2');
  if (running) {
    $('check-meta').textContent = 'Checking the storage…';
  } else if (!chk) {
    $('check-meta').textContent = 'Reach the bucket, then write, read, list and delete a small object, the way the registry will.';
  } else {
    const at = chk.at ? new Date(chk.at) : null;
    const when = at && !Number.isNaN(at.getTime()) ? at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }) : '';
    $('check-meta').textContent = `${chk.ok ? 'Passed' : 'Failed'}${when ? ` at ${when}` : ''}${chk.bucket ? ` · bucket ${chk.bucket}` : ''}${fromCheck ? ' (see the top of the tab)' : ''}`;
  }
  $('check-meta').classList.toggle('check-bad', Boolean(chk && !chk.ok && !running));
  $('check-meta').classList.toggle('check-ok', Boolean(chk && chk.ok && !running));
  // the steps show once: beside the failed start when that is what failed
  // (a passed check is one line; a failed one lists its steps)
  const steps = $('check-steps');
  if (chk && !running && !fromCheck && !chk.ok) renderSteps(steps, chk.steps);
  else steps.hidden = true;
  create2.hidden = !(chk && !chk.ok && chk.canCreateBucket && !fromCheck && !running);
  create2.disabled = Boolean(state.busy || job);
}

/* ---------- overview: containers ---------- */

function renderContainers() {
  const list = Array.isArray(state.status?.containers) && !state.unreachable ? state.status.containers : [];
  const nav = desktopNavigate();
  $('containers-empty').hidden = list.length > 0;
  $('containers-body').replaceChildren(
    ...list.map((c) => {
      const health = c.health && c.health !== 'none' && c.health !== c.state ? c.health : '';
      const stateText = [c.state || 'unknown', health].filter(Boolean).join(', ');
      const role = c.role ? c.role.charAt(0).toUpperCase() + c.role.slice(1) : 'Container';
      return el(
        'li',
        { class: 'container-item', dataset: { role: c.role || '' } },
        el('div', { class: 'container-main' }, el('strong', {}, role), el('span', { class: 'mono muted small', title: c.image || '' }, c.name || (c.id || '').slice(0, 12))),
        el('span', { class: 'cstate', dataset: { s: c.state || '', h: c.health || '' } }, stateText),
        nav && c.id
          ? el(
              'span',
              { class: 'container-links' },
              el('button', { type: 'button', class: 'link-btn', 'data-nav': 'viewContainer', 'data-id': c.id }, 'Open'),
              el('button', { type: 'button', class: 'link-btn', 'data-nav': 'viewContainerLogs', 'data-id': c.id }, 'Logs'),
            )
          : null,
      );
    }),
  );
  const mode = state.status?.mode || state.config?.mode;
  $('volume-link').hidden = !(nav && mode === 'local');
  const d = state.status?.docker;
  let docker = '';
  if (d && !state.unreachable) {
    if (d.reachable === false) docker = 'Docker is not reachable.';
    else docker = `Docker ${[d.version, d.apiVersion ? `API ${d.apiVersion}` : ''].filter(Boolean).join(' · ')}`;
  }
  setTextIfChanged($('docker-fact'), docker);
  const rm = button('btn-remove');
  rm.disabled = Boolean(state.busy) || state.unreachable || list.length === 0 || Boolean(state.status?.job);
  rm.classList.toggle('busy', state.busy === 'remove' || state.status?.job === 'remove');
  button('menu-remove').disabled = rm.disabled;
  button('menu-remove').hidden = !isConfigured() && list.length === 0;
}

/* ---------- sections: markers, the cache's and the team's pieces ---------- */

function renderSections() {
  const c = state.config;
  const mode = c?.mode || 'local';
  // the export works where the bucket can be shared: not local, not the native driver
  $('team-card').hidden = !c || mode === 'local' || mode === 'storj-native';
  const on = cacheEnabled();
  // the cache's own Save and Cancel, while its switch or fields differ from what is saved
  const cacheDirty = form.cacheDirty();
  $('cache-form-actions').hidden = !cacheDirty && state.busy !== 'save-cache';
  const cs0 = button('btn-cache-save');
  cs0.disabled = Boolean(state.busy);
  cs0.classList.toggle('busy', state.busy === 'save-cache');
  setTextIfChanged(/** @type {HTMLElement} */ (cs0.querySelector('.btn-label')), form.cacheOn() && !form.savedCacheOn() ? 'Save and turn on' : form.savedCacheOn() && !form.cacheOn() ? 'Save and turn off' : 'Save');
  const cs = cacheStatus();
  setMarker('cache', on ? (cs?.state === 'running' ? 'on' : stateWords(cs?.state || 'stopped').toLowerCase()) : 'off', on && cs?.state === 'running' ? 'ok' : '');
  const auth = $('users-auth').textContent || '';
  setMarker('access', /on/.test(auth) ? 'logins on' : '', 'ok');
  setMarker('cleanup', cleanupMarker());
  const err = state.status?.error;
  setMarker('settings', !state.unreachable && err && typeof err === 'object' && err.code === 'storage_check_failed' ? 'check failed' : '', 'bad');
}

/* ---------- render ---------- */

function renderAll() {
  renderHeader();
  renderView();
  if (!form) return;
  renderSetup();
  renderStatus();
  renderCommands();
  renderSummary();
  renderContainers();
  renderUsersState();
  renderSections();
}

/* ---------- events ---------- */

function bindCopy() {
  for (const btn of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('[data-copy]'))) {
    const label = btn.getAttribute('aria-label') || 'Copy';
    btn.addEventListener('click', async () => {
      const text = $(btn.dataset.copy || '').textContent || '';
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
}

function bind() {
  button('btn-toggle').addEventListener('click', toggle);
  button('btn-restart').addEventListener('click', () => act('restart'));
  button('btn-create-bucket').addEventListener('click', () => check(true));
  button('btn-create-bucket-2').addEventListener('click', () => check(true));
  button('btn-check').addEventListener('click', () => check(false));
  button('btn-edit').addEventListener('click', () => {
    state.editing = true;
    render();
    queueMicrotask(() => $('f-grant').offsetParent ? $('f-grant').focus() : $('setup-heading').focus());
  });
  button('btn-cancel-edit').addEventListener('click', () => {
    form.discard();
    inspectSoon('config');
    state.editing = false;
    render();
    announce('Unsaved changes discarded.');
  });
  $('settings').addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });

  $('containers-body').addEventListener('click', (e) => {
    const b = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest('[data-nav]'));
    if (!b) return;
    const view = /** @type {'viewContainer' | 'viewContainerLogs'} */ (b.dataset.nav);
    navigate(view, b.dataset.id || '').then((ok) => {
      if (!ok) toast('error', 'Docker Desktop could not open that view.');
    });
  });
  button('btn-volume').addEventListener('click', () => {
    navigate('viewVolume', 'storj-registry-data').then((ok) => {
      if (!ok) toast('error', 'Docker Desktop could not open the volume.');
    });
  });

  button('banner-retry').addEventListener('click', async () => {
    const b = button('banner-retry');
    b.disabled = true;
    try {
      await poller.poll();
      if (!state.unreachable && !state.config) await loadConfig();
    } finally {
      b.disabled = false;
    }
  });

  const image = /** @type {HTMLInputElement} */ ($('howto-image'));
  image.value = state.ui.image;
  image.addEventListener('input', () => {
    state.ui.image = image.value;
    saveUiPrefs();
    render();
  });
  bindCopy();
  $('help-link').addEventListener('click', () => openHelp());
  button('btn-push-help').addEventListener('click', () => openPush());
  button('btn-team-open').addEventListener('click', () => openTeam());
  $('cache-form').addEventListener('submit', (e) => {
    e.preventDefault();
    saveCache();
  });
  $('cache-form').addEventListener('input', () => render());
  button('btn-cache-cancel').addEventListener('click', () => {
    form.discardCache();
    render();
    $('f-cache-enabled').focus();
    announce('Unsaved changes to the Docker Hub cache discarded.');
  });
  // a hint's section names go to the section
  $('alerts').addEventListener('click', (e) => {
    const b = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest('[data-goto]'));
    if (b?.dataset.goto) showSection(b.dataset.goto, { focus: true });
  });
  // the empty list's own Push button
  $('images').addEventListener('click', (e) => {
    if (/** @type {HTMLElement} */ (e.target).closest('[data-action=push]')) openPush();
  });

  for (const a of /** @type {NodeListOf<HTMLAnchorElement>} */ (document.querySelectorAll('a.ext-link'))) {
    a.addEventListener('click', (e) => {
      e.preventDefault();
      openExternal(a.href);
    });
  }

  document.addEventListener('visibilitychange', () => {
    if (document.hidden) poller.stop();
    else poller.poll();
  });
}

/* ---------- start ---------- */

function init() {
  watchTheme();
  form = new SettingsForm({ onChange: render, onInspect: (why) => inspectSoon(why) });
  initGrant(form);
  initActions(form);
  // unsaved edits from before a tab switch reopen the form they were made in
  if (form.restoreDraft()) state.editing = true;
  onRender(renderAll);
  onConfig((config) => {
    form.configured = isConfigured() || form.configured;
    form.fill(config);
    inspectSoon('config');
  });
  onConfigError((message) => setFormError(message));
  let wasConfigured = false;
  onStatus(() => {
    const now = isConfigured();
    if (now !== wasConfigured) {
      wasConfigured = now;
      form.configured = now;
      if (state.config) form.fill(state.config);
    }
  });
  bindSections();
  bind();
  bindDialogs();
  bindImages();
  bindCleanup();
  bindLogs();
  bindTeam();
  bindFindings();
  bindUsers();
  bindCache();
  renderImages();
  renderFindings();
  render();
  api.health().then(renderVersion, () => {});
  loadConfig();
  poller.poll();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
