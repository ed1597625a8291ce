// @ts-check
// The access grant, read offline by the backend as the user types or
// pastes: what it allows, and whether it suits a registry in the chosen
// mode (registry.findings), in plain words. Offers the one-click fix for
// encrypted object keys and fills the bucket when the grant names one.

import { api } from './api.js';
import { state, markUnreachable, render } from './state.js';
import { secretIsSet } from './form.js';
import { el, renderGrantInfo, setFieldError, sentence } from './view.js';
import { bucketError } from './validate.js';

const DEBOUNCE_MS = 350;

/** @type {import('./form.js').SettingsForm} */
let form;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
let seq = 0;
/** @type {Finding[]} */
let findings = [];
let suggested = '';

/** @param {import('./form.js').SettingsForm} f */
export function initGrant(f) {
  form = f;
}

/** Findings on screen now (the tests and the save flow read them). */
export function currentFindings() {
  return findings;
}

function savedGrant() {
  return secretIsSet(state.config?.accessGrant);
}

function showSaved() {
  const g = state.config?.accessGrant;
  if (form.value('accessGrant') === '' && secretIsSet(g)) renderGrantInfo({ saved: { satellite: g && typeof g === 'object' ? g.satellite : '' } });
  else if (form.value('accessGrant') === '') renderGrantInfo(null);
}

/**
 * Something the check depends on changed: ask again, debounced.
 * @param {string} [why] 'accessGrant' | 'bucket' | 'mode' | 'cred' | 'unencryptedKeys' | 'config'
 */
export function inspectSoon(why = '') {
  if (timer) clearTimeout(timer);
  const my = ++seq;
  state.saveWarnings = [];
  const grant = form.value('accessGrant');
  if (!form.usesGrant() || (!grant && !savedGrant())) {
    findings = [];
    if (!form.usesGrant()) renderGrantInfo(null);
    else showSaved();
    if (why === 'accessGrant') setFieldError('accessGrant', '');
    renderFindings();
    return;
  }
  if (grant && form.checkField('accessGrant')) {
    renderGrantInfo(null);
    findings = [];
    renderFindings();
    return;
  }
  if (why === 'accessGrant' && grant) renderGrantInfo({ loading: true });
  timer = setTimeout(() => inspectNow(my), why === 'config' ? 0 : DEBOUNCE_MS);
}

/** @param {number} my */
async function inspectNow(my) {
  const grant = form.value('accessGrant');
  const bucket = form.value('bucket');
  /** @type {{accessGrant?: string, bucket?: string, mode?: string, unencryptedKeys?: boolean}} */
  const body = { mode: form.mode, unencryptedKeys: form.unencryptedKeys };
  if (grant) body.accessGrant = grant;
  if (bucket && !bucketError(bucket)) body.bucket = bucket;
  try {
    let info;
    try {
      info = await api.inspectGrant(body);
    } catch (err) {
      // a backend from before the per-mode check: ask the old way
      if (err.code !== 'unknown_field' || !['mode', 'unencryptedKeys'].includes(err.field)) throw err;
      delete body.mode;
      delete body.unencryptedKeys;
      info = await api.inspectGrant(body);
    }
    if (my !== seq) return;
    setFieldError('accessGrant', '');
    if (grant) renderGrantInfo(info);
    else showSaved();
    const reg = info?.registry;
    findings = Array.isArray(reg?.findings) ? reg.findings : Array.isArray(info?.warnings) ? info.warnings : [];
    suggested = typeof info?.suggestedBucket === 'string' ? info.suggestedBucket : '';
    if (suggested && grant && form.suggestBucket(suggested)) {
      const help = document.getElementById('help-bucket');
      if (help) help.textContent = 'From the access grant, which is limited to this bucket.';
    }
  } catch (err) {
    if (my !== seq) return;
    findings = [];
    if (err.unreachable) {
      setFieldError('accessGrant', 'Could not check the grant: the backend does not answer.');
      markUnreachable(err);
    } else if (grant) {
      renderGrantInfo(null);
      setFieldError('accessGrant', err.message || 'This is not a valid access grant.');
    }
  }
  renderFindings();
  render();
}

const SEVERITY_WORDS = { error: 'Problem', warning: 'Warning', info: 'Note' };

/** The findings, in plain words, with the one-click fix where it applies. */
export function renderFindings() {
  const box = /** @type {HTMLElement} */ (document.getElementById('findings'));
  /** @type {HTMLElement[]} */
  const items = [];
  for (const f of findings) {
    if (!f || !(f.message || f.code)) continue;
    // the bucket field itself asks for a bucket
    if (f.code === 'no_bucket' && form.fieldActive('bucket')) continue;
    const sev = f.severity === 'error' || f.severity === 'info' ? f.severity : 'warning';
    /** @type {any[]} */
    const extra = [];
    if (f.action === 'unencrypted-keys' && !form.unencryptedKeys) {
      // the backend's fix text explains the trade-off; this one is for a backend without it
      const explain =
        'With unencrypted object keys, image contents stay end-to-end encrypted; only repository names, tags and digests become visible to the satellite. Images already stored under encrypted keys in this bucket will not be seen by this registry.';
      extra.push(
        f.fix ? null : el('p', { class: 'finding-explain' }, explain),
        el('button', { type: 'button', class: 'btn btn-outlined btn-small', id: 'btn-unencrypted-keys' }, 'Use unencrypted object keys for this registry'),
      );
    }
    items.push(
      el(
        'li',
        { class: `finding finding-${sev}`, dataset: { code: f.code || '', severity: sev } },
        el('span', { class: 'visually-hidden' }, `${/** @type {Record<string,string>} */ (SEVERITY_WORDS)[sev]}: `),
        el('span', { class: 'finding-msg' }, sentence(f.message || f.code)),
        f.fix ? el('span', { class: 'finding-fix' }, sentence(f.fix)) : null,
        extra,
      ),
    );
  }
  if (form.unencryptedKeys && form.usesGrant() && (form.mode === 'storj' || form.mode === 'storj-hosted')) {
    items.push(
      el(
        'li',
        { class: 'finding finding-info', dataset: { code: 'unencrypted-keys-on' } },
        el(
          'span',
          { class: 'finding-msg' },
          'Unencrypted object keys for this registry: contents stay end-to-end encrypted; repository names and digests are visible to the satellite.',
        ),
        el('button', { type: 'button', class: 'btn btn-text btn-small', id: 'btn-encrypted-keys' }, 'Keep keys encrypted'),
      ),
    );
  }
  box.hidden = items.length === 0;
  box.replaceChildren(...(items.length ? [el('ul', { class: 'finding-list' }, items)] : []));
}

/** Clicks on the fix buttons (the findings are re-rendered, so delegate). */
export function bindFindings() {
  const box = /** @type {HTMLElement} */ (document.getElementById('findings'));
  box.addEventListener('click', (e) => {
    const t = /** @type {HTMLElement} */ (e.target);
    if (t.closest('#btn-unencrypted-keys')) form.setUnencryptedKeys(true);
    else if (t.closest('#btn-encrypted-keys')) form.setUnencryptedKeys(false);
    else return;
    renderFindings();
    /** @type {HTMLElement | null} */ (document.getElementById('btn-save'))?.focus();
  });
}
