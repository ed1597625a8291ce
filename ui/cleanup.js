// @ts-check
// Clean-up rules: per repository pattern, keep the newest N tags and the
// tags matching patterns; a preview that lists exactly what would go and how
// much space at most that frees; applying them (delete, then the clean-up,
// during which the registry stays up read-only); an optional daily time.
// What the user types stays a draft until saved: refreshes never replace it.

import { api } from './api.js';
import { state, onStatus, onRender, markUnreachable, poller, setStatus, currentState, render } from './state.js';
import { toast } from './desktop.js';
import { confirmDialog } from './dialogs.js';
import { el, formatBytes, sentence, shortDate } from './view.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @typedef {{repositories: string, keepLast: string, keepTags: string, keepPulledWithin: string, keepPushedWithin: string}} RuleDraft */
/** @typedef {{rules: RuleDraft[], deleteUntagged: boolean, scheduleOn: boolean, time: string}} RulesDraft */

const cleanup = {
  /** @type {RulesDraft | null} the form, as typed */
  draft: null,
  /** @type {any} what the backend last answered for GET/PUT /api/retention */
  saved: null,
  dirty: false,
  busy: /** @type {'' | 'save' | 'preview' | 'apply'} */ (''),
  /** @type {any} the last preview, or null */
  plan: null,
  /** @type {{field: string, message: string} | null} */
  error: null,
  /** @type {any} how far a preview's or an apply's reading is (GET /api/retention .reading) */
  reading: null,
  /** @type {number | undefined} */
  readingTimer: undefined,
};

/** While a preview or an apply reads the registry, asks every second how far
 * it is and shows it: a preview over thousands of tags on Storj takes minutes. */
function followReading() {
  const reading = cleanup.busy === 'preview' || state.status?.job === 'retention';
  if (reading && cleanup.readingTimer === undefined) {
    cleanup.readingTimer = window.setInterval(async () => {
      try {
        const r = await api.getRetention();
        cleanup.reading = r?.reading || null;
      } catch {
        cleanup.reading = null;
      }
      const line = document.getElementById('rules-reading');
      if (line) line.textContent = readingLine();
    }, 1000);
  } else if (!reading && cleanup.readingTimer !== undefined) {
    window.clearInterval(cleanup.readingTimer);
    cleanup.readingTimer = undefined;
    cleanup.reading = null;
  }
}

function readingLine() {
  const r = cleanup.reading;
  if (!r || !r.repository) return cleanup.busy === 'preview' || state.status?.job === 'retention' ? 'Reading what the registry holds…' : '';
  const of = r.repositories > 1 ? ` (repository ${Math.min(r.repositoryAt + 1, r.repositories)} of ${r.repositories})` : '';
  return `Reading ${r.repository}${of}: ${r.tagsRead.toLocaleString()} of ${r.tags.toLocaleString()} tags…`;
}

/** @param {any} r @returns {RulesDraft} */
function draftOf(r) {
  return {
    rules: (r?.rules || []).map((/** @type {any} */ x) => ({
      repositories: x.repositories || '',
      keepLast: x.keepLast === null || x.keepLast === undefined ? '' : String(x.keepLast),
      keepTags: (x.keepTags || []).join(', '),
      keepPulledWithin: x.keepPulledWithin === null || x.keepPulledWithin === undefined ? '' : String(x.keepPulledWithin),
      keepPushedWithin: x.keepPushedWithin === null || x.keepPushedWithin === undefined ? '' : String(x.keepPushedWithin),
    })),
    deleteUntagged: r?.deleteUntagged !== false,
    scheduleOn: typeof r?.schedule === 'string',
    time: typeof r?.schedule === 'string' ? r.schedule : '03:00',
  };
}

/** The rules document from the draft; keepLast that is not a number is sent
 * as typed so that the backend names the field. @param {RulesDraft} d */
function bodyOf(d) {
  /** days: a number, null when empty, the text as typed otherwise (the backend names the field) */
  const days = (/** @type {string} */ v) => {
    const t = (v || '').trim();
    return t === '' ? null : /^\d+$/.test(t) ? Number(t) : t;
  };
  return {
    rules: d.rules.map((r) => {
      const n = r.keepLast.trim();
      return {
        keepPulledWithin: days(r.keepPulledWithin),
        keepPushedWithin: days(r.keepPushedWithin),
        repositories: r.repositories.trim(),
        keepLast: n === '' ? null : /^\d+$/.test(n) ? Number(n) : n,
        keepTags: r.keepTags
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      };
    }),
    deleteUntagged: d.deleteUntagged,
    schedule: d.scheduleOn ? d.time : null,
  };
}

async function loadRules() {
  try {
    cleanup.saved = await api.getRetention();
    if (!cleanup.dirty) cleanup.draft = draftOf(cleanup.saved);
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
  }
  renderRules();
  renderRuns();
}

/**
 * The history: the last runs of the clean-up rules (GET /api/retention
 * .runs) and of Free up space (.gcRuns), each newest first and at most 10
 * (the backend keeps them since it started), merged by time.
 */
export function renderRuns() {
  const box = document.getElementById('runs');
  if (!box) return;
  const s = cleanup.saved;
  /** @type {{at: string, what: string, ok: boolean, partly: boolean, counts: string, message: string}[]} */
  const rows = [];
  for (const r of Array.isArray(s?.runs) ? s.runs : [])
    rows.push({ at: String(r.at || ''), what: 'Clean-up rules', ok: Boolean(r.ok), partly: !r.ok && Number(r.images) > 0, counts: `${plural(Number(r.images) || 0, 'image')}, ${plural(Number(r.tags) || 0, 'tag')}`, message: String(r.message || '') });
  for (const g of Array.isArray(s?.gcRuns) ? s.gcRuns : []) rows.push({ at: String(g.at || ''), what: 'Free up space', ok: Boolean(g.ok), partly: false, counts: '', message: String(g.message || '') });
  rows.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  if (!rows.length) {
    box.replaceChildren(el('p', { class: 'muted small runs-empty' }, s ? 'No runs yet since the backend started: Apply now…, the daily run and Free up space show here.' : ''));
    return;
  }
  box.replaceChildren(
    el(
      'table',
      { class: 'runs-table' },
      el('caption', { class: 'visually-hidden' }, 'The last runs of the clean-up rules and of Free up space, newest first'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'When'), el('th', { scope: 'col' }, 'Run'), el('th', { scope: 'col' }, 'Result'), el('th', { scope: 'col' }, 'Deleted'), el('th', { scope: 'col' }, 'Details'))),
      el(
        'tbody',
        {},
        rows.map((r) =>
          el(
            'tr',
            {},
            el('td', { class: 'runs-when' }, el('time', { datetime: r.at }, shortDate(r.at) || r.at)),
            el('td', { class: 'runs-what' }, r.what),
            el('td', {}, el('span', { class: `chip ${r.ok ? 'chip-ok' : r.partly ? 'chip-warn' : 'chip-bad'}` }, r.ok ? 'Done' : r.partly ? 'Partly done' : 'Failed')),
            el('td', { class: 'runs-counts' }, r.counts || el('span', { class: 'muted' }, '—')),
            el('td', { class: 'muted small runs-message' }, sentence(r.message)),
          ),
        ),
      ),
    ),
  );
}

/** @param {any} err */
function showError(err) {
  cleanup.error = { field: err.field || '', message: sentence(err.message) };
  renderRules();
  const input = cleanup.error.field ? document.querySelector(`[data-field="${CSS.escape(cleanup.error.field)}"]`) : null;
  if (input instanceof HTMLElement) input.focus();
}

async function save() {
  if (!cleanup.draft || cleanup.busy) return;
  cleanup.busy = 'save';
  cleanup.error = null;
  renderRules();
  try {
    cleanup.saved = await api.putRetention(bodyOf(cleanup.draft));
    cleanup.draft = draftOf(cleanup.saved);
    cleanup.dirty = false;
    toast('success', 'Clean-up rules saved.');
    render(); // the section's marker: the next run
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    showError(err);
  } finally {
    cleanup.busy = '';
    renderRules();
  }
}

async function preview() {
  if (!cleanup.draft || cleanup.busy) return;
  cleanup.busy = 'preview';
  cleanup.error = null;
  followReading();
  renderRules();
  try {
    // the rules as typed, saved or not
    // from the index at once when it has read the registry whole (apply
    // reads the registry anyway); otherwise the registry is read now
    cleanup.plan = await api.previewRetention(bodyOf(cleanup.draft), state.status?.index?.state === 'ready');
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    cleanup.plan = null;
    showError(err);
  } finally {
    cleanup.busy = '';
    followReading();
    renderRules();
  }
  if (cleanup.plan) openPlan();
}

/** The preview in its dialog: a bounded list that scrolls; Close (or Esc) goes back to Preview. */
function openPlan() {
  const dlg = /** @type {HTMLDialogElement} */ (document.getElementById('plan-dialog'));
  if (!dlg) return;
  const view = planView(cleanup.plan);
  $('rules-plan').replaceChildren(...(view ? [view] : []));
  if (!dlg.open) dlg.showModal();
  /** @type {HTMLElement} */ ($('plan-close')).focus();
}

async function apply() {
  if (cleanup.busy) return;
  if (cleanup.dirty) {
    toast('error', 'Save the rules first: Apply uses the saved rules.');
    return;
  }
  const p = cleanup.plan;
  const what = p ? `${plural(p.images, 'image')} with ${plural(p.tags, 'tag')}, up to ${formatBytes(p.bytes)}` : 'what the saved rules select (press Preview to see it first)';
  const ok = await confirmDialog({
    title: 'Apply the clean-up rules?',
    body: `This deletes ${what}, then frees up their space. Meanwhile the registry stays up read-only: pulls keep working, pushes are refused until it is done.`,
    confirm: 'Delete and free up space',
  });
  if (!ok) return;
  cleanup.busy = 'apply';
  renderRules();
  try {
    const res = await api.applyRetention();
    if (res && typeof res === 'object' && typeof res.state === 'string') setStatus(res);
    cleanup.plan = null;
    toast('success', 'Applying the clean-up rules…');
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    toast('error', `Could not apply the rules: ${err.message}`);
  } finally {
    cleanup.busy = '';
    renderRules();
    poller.poll();
  }
}

/** "1 image", "3 images" @param {number} n @param {string} word */
function plural(n, word) {
  return `${Number(n).toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

/** @param {string} field @param {string} text */
function errorFor(field, text) {
  return cleanup.error && cleanup.error.field === field ? el('p', { class: 'field-error', role: 'alert' }, text) : null;
}

/** @param {RuleDraft} r @param {number} i */
function ruleRow(r, i) {
  const f = (/** @type {string} */ k) => `rules[${i}].${k}`;
  const bad = (/** @type {string} */ k) => (cleanup.error?.field === f(k) ? 'true' : undefined);
  return el(
    'li',
    { class: 'rule' },
    el(
      'div',
      { class: 'rule-fields' },
      el(
        'label',
        { class: 'rule-field' },
        el('span', {}, 'Repositories'),
        el('input', { type: 'text', value: r.repositories, placeholder: 'team/* or my-app', spellcheck: 'false', 'data-field': f('repositories'), 'data-i': i, 'data-k': 'repositories', 'aria-invalid': bad('repositories') }),
      ),
      el(
        'label',
        { class: 'rule-field rule-narrow' },
        el('span', {}, 'Keep newest'),
        el('input', { type: 'text', inputmode: 'numeric', value: r.keepLast, placeholder: 'all', 'data-field': f('keepLast'), 'data-i': i, 'data-k': 'keepLast', 'aria-invalid': bad('keepLast') }),
      ),
      el(
        'label',
        { class: 'rule-field rule-narrow', title: 'Keep images pulled within this many days (from the index; an unknown pull time keeps the image)' },
        el('span', {}, 'Pulled within (days)'),
        el('input', { type: 'text', inputmode: 'numeric', value: r.keepPulledWithin, placeholder: 'off', 'data-field': f('keepPulledWithin'), 'data-i': i, 'data-k': 'keepPulledWithin', 'aria-invalid': bad('keepPulledWithin') }),
      ),
      el(
        'label',
        { class: 'rule-field rule-narrow', title: 'Keep images pushed within this many days (from the index; an unknown push time keeps the image)' },
        el('span', {}, 'Pushed within (days)'),
        el('input', { type: 'text', inputmode: 'numeric', value: r.keepPushedWithin, placeholder: 'off', 'data-field': f('keepPushedWithin'), 'data-i': i, 'data-k': 'keepPushedWithin', 'aria-invalid': bad('keepPushedWithin') }),
      ),
      el(
        'label',
        { class: 'rule-field' },
        el('span', {}, 'Always keep tags'),
        el('input', { type: 'text', value: r.keepTags, placeholder: 'latest, v*', spellcheck: 'false', 'data-field': f('keepTags'), 'data-i': i, 'data-k': 'keepTags', 'aria-invalid': bad('keepTags') || (cleanup.error?.field.startsWith(f('keepTags')) ? 'true' : undefined) }),
      ),
      el('button', { type: 'button', class: 'btn btn-text btn-small btn-danger-text', 'data-remove': i, 'aria-label': `Remove rule ${i + 1}` }, 'Remove'),
    ),
    errorFor(f('repositories'), cleanup.error?.message || ''),
    errorFor(f('keepLast'), cleanup.error?.message || ''),
    errorFor(f('keepPulledWithin'), cleanup.error?.message || ''),
    errorFor(f('keepPushedWithin'), cleanup.error?.message || ''),
    cleanup.error?.field.startsWith(f('keepTags')) ? el('p', { class: 'field-error', role: 'alert' }, cleanup.error.message) : null,
  );
}

/** Why tags stay, counted: "2 recent, 1 by pattern, 3 of unknown age".
 * @param {any[]} keep */
function keptWhy(keep) {
  /** @type {Record<string, string>} */
  const words = {
    recent: 'recent',
    pattern: 'by pattern',
    'same image': 'on a kept image',
    'in a kept index': 'in a kept multi-platform image',
    'age unknown': 'of unknown age',
    'pulled recently': 'pulled recently',
    'pushed recently': 'pushed recently',
    'pull time unknown': 'of unknown pull time',
    'push time unknown': 'of unknown push time',
  };
  /** @type {Map<string, number>} */
  const counts = new Map();
  for (const k of keep) counts.set(k.reason, (counts.get(k.reason) || 0) + 1);
  return [...counts].map(([r, n]) => `${n} ${words[r] || r}`).join(', ');
}

/** @param {any} p */
function planView(p) {
  if (!p) return null;
  const repos = p.repositories || [];
  if (!repos.length) return el('p', { class: 'images-empty' }, 'No repository matches these rules.');
  const skipped = p.skipped || [];
  const total =
    p.images === 0
      ? 'Nothing would be deleted.'
      : `Would delete ${plural(p.images, 'image')} with ${plural(p.tags, 'tag')}, freeing up to ${formatBytes(p.bytes)} (layers that kept images share stay).`;
  return el(
    'div',
    { class: 'plan' },
    el('p', { class: 'plan-total' }, total, p.deleteUntagged ? ' The clean-up after it also deletes untagged manifests in every repository (those no tag names; the platforms of a tagged multi-platform image stay).' : ''),
    skipped.length
      ? el(
          'p',
          { class: 'field-error', role: 'alert' },
          `${skipped.length} repositor${skipped.length === 1 ? 'y was' : 'ies were'} not read whole, so nothing would be deleted there: ${skipped
            .slice(0, 3)
            .map((/** @type {any} */ x) => `${x.name} (${x.reason})`)
            .join('; ')}${skipped.length > 3 ? '; …' : ''}. Preview again; if it persists, the registry's storage is failing: see Logs.`,
        )
      : null,
    el(
      'ul',
      { class: 'plan-list' },
      repos.map((/** @type {any} */ r) =>
        el(
          'li',
          {},
          el('span', { class: 'mono' }, r.name),
          ' ',
          el('span', { class: 'muted small' }, r.skipped ? `rule ${r.rule + 1}: skipped, nothing deleted (${r.skipped})` : `rule ${r.rule + 1}: ${r.delete.length} to delete, ${plural(r.keep.length, 'tag')} kept${r.keep.length ? ` (${keptWhy(r.keep)})` : ''}`),
          r.delete.length
            ? el(
                'ul',
                { class: 'plan-deletes' },
                r.delete.map((/** @type {any} */ d) =>
                  el('li', {}, el('span', { class: 'mono' }, d.tags.join(', ')), el('span', { class: 'muted small' }, ` · ${d.created ? new Date(d.created).toLocaleString() : 'age unknown'} · ${formatBytes(d.size)}`)),
                ),
              )
            : null,
        ),
      ),
    ),
  );
}

function lastRunLine() {
  const s = cleanup.saved;
  if (!s) return '';
  const parts = [];
  if (s.lastRun) {
    const at = new Date(s.lastRun.at).toLocaleString();
    parts.push(`Last applied ${at}: ${s.lastRun.ok ? '' : s.lastRun.images ? 'partly done: ' : 'nothing deleted: '}${sentence(s.lastRun.message)}`);
  }
  if (s.nextRun) parts.push(`Next run ${new Date(s.nextRun).toLocaleString()} (daily at ${s.schedule} UTC).`);
  return parts.join(' ');
}

/** The section's marker: the next daily run, or '' without one. */
export function cleanupMarker() {
  const s = cleanup.saved;
  if (!s?.nextRun) return '';
  const d = new Date(s.nextRun);
  if (Number.isNaN(d.getTime())) return '';
  return `next ${d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}`;
}

/** "(04:00 your time)" for a daily "HH:MM" in UTC; '' when it is not a time or the same. @param {string} hhmm */
export function localTimeOf(hhmm) {
  const m = /^(\d{1,2}):(\d{2})$/.exec(String(hhmm || '').trim());
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) return '';
  const d = new Date();
  d.setUTCHours(Number(m[1]), Number(m[2]), 0, 0);
  if (d.getTimezoneOffset() === 0) return '';
  return `(${d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })} your time)`;
}

export function renderRules() {
  const box = $('rules');
  if (!box) return;
  const d = cleanup.draft;
  if (!d) {
    box.replaceChildren(el('p', { class: 'muted small' }, 'Loading the clean-up rules…'));
    return;
  }
  const serving = currentState() === 'running' && !state.status?.job;
  const active = document.activeElement instanceof HTMLInputElement && box.contains(document.activeElement) ? document.activeElement : null;
  const focusKey = active ? `${active.dataset.field || active.id}` : '';
  const caret = active ? active.selectionStart : null;
  const parts = [
    d.rules.length ? el('ol', { class: 'rules' }, d.rules.map(ruleRow)) : el('p', { class: 'muted small' }, 'No rules: nothing is deleted by rules. Add one to keep, for example, the 10 newest tags of each repository.'),
    el('button', { type: 'button', id: 'rule-add', class: 'btn btn-text btn-small' }, '+ Add rule'),
    el(
      'div',
      { class: 'rules-options' },
      el('label', { class: 'check' }, el('input', { type: 'checkbox', id: 'rules-untagged', checked: d.deleteUntagged }), ' Also delete images that no tag names (a tagged multi-platform image keeps its platforms)'),
      el(
        'span',
        { class: 'schedule-group' },
      el(
        'label',
        { class: 'check' },
        el('input', { type: 'checkbox', id: 'rules-schedule', checked: d.scheduleOn }),
        ' Apply daily at ',
      ),
      el(
        'span',
        { class: 'rules-time-row' },
        // the backend keeps the schedule as "HH:MM" in UTC: the picker holds that UTC time
        el('input', { type: 'time', id: 'rules-time', class: 'time-input', value: d.time, step: '60', 'data-field': 'schedule', 'aria-label': 'Time of day, UTC', disabled: !d.scheduleOn, 'aria-invalid': cleanup.error?.field === 'schedule' ? 'true' : undefined }),
        el('span', { class: 'utc-label' }, 'UTC'),
        el('span', { class: 'muted small local-time', id: 'rules-local-time' }, localTimeOf(d.time)),
      ),
      ),
    ),
    errorFor('schedule', cleanup.error?.message || ''),
    cleanup.error && !document.querySelector(`[data-field="${CSS.escape(cleanup.error.field)}"]`) && !cleanup.error.field.startsWith('rules[') && cleanup.error.field !== 'schedule'
      ? el('p', { class: 'field-error', role: 'alert' }, cleanup.error.message)
      : null,
    el(
      'div',
      { class: 'rules-actions' },
      el('button', { type: 'button', id: 'rules-save', class: `btn btn-outlined btn-small${cleanup.busy === 'save' ? ' busy' : ''}`, disabled: Boolean(cleanup.busy) || !cleanup.dirty }, el('span', { class: 'spinner', 'aria-hidden': 'true' }), el('span', { class: 'btn-label' }, cleanup.dirty ? 'Save rules' : 'Saved')),
      el('button', { type: 'button', id: 'rules-preview', class: `btn btn-outlined btn-small${cleanup.busy === 'preview' ? ' busy' : ''}`, disabled: Boolean(cleanup.busy) || !serving, title: serving ? undefined : 'Start the registry to preview' }, el('span', { class: 'spinner', 'aria-hidden': 'true' }), el('span', { class: 'btn-label' }, 'Preview')),
      el('button', { type: 'button', id: 'rules-apply', class: `btn btn-text btn-small btn-danger-text${cleanup.busy === 'apply' || state.status?.job === 'retention' ? ' busy' : ''}`, disabled: Boolean(cleanup.busy) || !serving || !d.rules.length || cleanup.dirty, title: cleanup.dirty ? 'Save the rules first: Apply uses the saved rules' : undefined }, el('span', { class: 'spinner', 'aria-hidden': 'true' }), el('span', { class: 'btn-label' }, 'Apply now…')),
    ),
    el('p', { class: 'muted small', id: 'rules-last' }, lastRunLine()),
    el('p', { class: 'muted small', id: 'rules-reading', role: 'status' }, readingLine()),
  ];
  box.replaceChildren(.../** @type {Node[]} */ (parts.filter(Boolean)));
  // keep the caret where the user was typing
  if (focusKey) {
    const again = box.querySelector(`[data-field="${CSS.escape(focusKey)}"], #${CSS.escape(focusKey)}`);
    if (again instanceof HTMLInputElement) {
      again.focus();
      if (caret !== null) again.setSelectionRange(caret, caret);
    }
  }
}

function changed() {
  cleanup.dirty = true;
  cleanup.plan = null; // a preview of other rules would mislead
  renderRules();
}

export function bindCleanup() {
  const box = $('rules');
  if (!box) return;
  box.addEventListener('input', (e) => {
    const t = e.target;
    if (!(t instanceof HTMLInputElement) || !cleanup.draft) return;
    const d = cleanup.draft;
    if (t.dataset.i !== undefined && t.dataset.k) {
      const r = d.rules[Number(t.dataset.i)];
      if (r) /** @type {any} */ (r)[t.dataset.k] = t.value;
    } else if (t.id === 'rules-untagged') d.deleteUntagged = t.checked;
    else if (t.id === 'rules-schedule') d.scheduleOn = t.checked;
    else if (t.id === 'rules-time') {
      // a re-render would move the picker's caret back to the hours: only
      // what depends on the time changes
      d.time = t.value;
      cleanup.dirty = true;
      cleanup.plan = null;
      const local = document.getElementById('rules-local-time');
      if (local) local.textContent = localTimeOf(d.time);
      const sv = /** @type {HTMLButtonElement | null} */ (document.getElementById('rules-save'));
      if (sv) {
        sv.disabled = Boolean(cleanup.busy);
        const label = sv.querySelector('.btn-label');
        if (label) label.textContent = 'Save rules';
      }
      const ap = /** @type {HTMLButtonElement | null} */ (document.getElementById('rules-apply'));
      if (ap) ap.disabled = true;
      return;
    }
    if (cleanup.error && cleanup.error.field === (t.dataset.field || '')) cleanup.error = null;
    changed();
  });
  box.addEventListener('click', (e) => {
    const t = /** @type {HTMLElement} */ (e.target);
    const b = t.closest('button');
    if (!b || !cleanup.draft) return;
    if (b.id === 'rule-add') {
      cleanup.draft.rules.push({ repositories: '*', keepLast: '10', keepTags: 'latest', keepPulledWithin: '', keepPushedWithin: '' });
      changed();
    } else if (b.dataset.remove !== undefined) {
      cleanup.draft.rules.splice(Number(b.dataset.remove), 1);
      cleanup.error = null;
      changed();
    } else if (b.id === 'rules-save') save();
    else if (b.id === 'rules-preview') preview();
    else if (b.id === 'rules-apply') apply();
  });
  const dlg = /** @type {HTMLDialogElement | null} */ (document.getElementById('plan-dialog'));
  if (dlg) {
    $('plan-close').addEventListener('click', () => dlg.close());
    dlg.addEventListener('click', (e) => {
      if (e.target === dlg) dlg.close(); // the backdrop
    });
    dlg.addEventListener('close', () => document.getElementById('rules-preview')?.focus());
  }
  onStatus((before) => {
    const job = state.status?.job;
    // a run ended: its result joins the history (Free up space runs from Images)
    if ((before?.job === 'retention' && job !== 'retention') || (before?.job === 'gc' && job !== 'gc')) loadRules();
    if (!cleanup.saved && !cleanup.draft) loadRules();
  });
  onRender(() => {
    followReading();
    const line = document.getElementById('rules-reading');
    if (line) line.textContent = readingLine();
    // only what depends on the status: the buttons' availability
    const serving = currentState() === 'running' && !state.status?.job;
    const pv = /** @type {HTMLButtonElement | null} */ (document.getElementById('rules-preview'));
    const ap = /** @type {HTMLButtonElement | null} */ (document.getElementById('rules-apply'));
    if (pv) pv.disabled = Boolean(cleanup.busy) || !serving;
    if (ap) {
      ap.disabled = Boolean(cleanup.busy) || !serving || !cleanup.draft?.rules.length || cleanup.dirty;
      ap.classList.toggle('busy', cleanup.busy === 'apply' || state.status?.job === 'retention');
    }
  });
  loadRules();
}

