// @ts-check
// The settings form: which fields each storage mode shows, what the user
// typed (kept across refreshes and, minus secrets, across tab switches in
// sessionStorage), client-side checks, and the PUT /api/config body.

import { bucketError, portError, bindError, urlError, grantHint, isLoopback } from './validate.js';
import { cacheTtlError, cachePortError, ttlWords } from './cache.js';
import { setFieldError, setFormError, fieldInputId } from './view.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

export const DEFAULTS = {
  port: '9999',
  bind: '127.0.0.1',
  hostedEndpoint: 'https://gateway.storjshare.io',
  hostedRegion: 'global',
  authService: 'https://auth.storjshare.io',
  cachePort: '9998',
  cacheUpstream: 'https://registry-1.docker.io',
  cacheTtl: '168h',
};

const DRAFT_KEY = 'storj-registry.settings-draft.v1';
const SECRETS = ['accessGrant', 's3.secretKey', 'cache.token'];
/* Only these go to sessionStorage; secrets and the S3 access key never do. */
const DRAFTABLE = ['bucket', 's3.endpoint', 's3.region', 'port', 'bind', 'authService', 'cache.port', 'cache.ttl', 'cache.username', 'cache.upstream'];
/* The Docker Hub cache's fields: shown while its checkbox is on (cache.enabled is the checkbox). */
const CACHE_FIELDS = ['cache.port', 'cache.ttl', 'cache.username', 'cache.token', 'cache.upstream'];
/* The storage form's own fields (Settings › Edit and the first-run setup). */
const STORAGE_FIELDS = ['bucket', 'accessGrant', 's3.endpoint', 's3.region', 's3.accessKey', 's3.secretKey', 'port', 'bind', 'authService'];
const ALL_FIELDS = ['bucket', 'accessGrant', 's3.endpoint', 's3.region', 's3.accessKey', 's3.secretKey', 'port', 'bind', 'authService', ...CACHE_FIELDS];
/* The reveal buttons' names for their inputs. */
const REVEAL_NAMES = { 'f-grant': 'access grant', 'f-secretkey': 'secret key', 'f-cache-token': 'access token' };

/* A secret as GET /api/config reports it: {"set":true,...}, true, or a non-empty string. */
/** @param {unknown} v */
export function secretIsSet(v) {
  if (v === true) return true;
  if (v && typeof v === 'object') return /** @type {{set?: boolean}} */ (v).set === true;
  return typeof v === 'string' && v !== '';
}

/** @param {unknown} v */
function str(v) {
  return v === undefined || v === null ? '' : String(v);
}

/* Field value in a GET /api/config answer, by dotted name. */
/** @param {Config | null} config @param {string} field @returns {unknown} */
function configValue(config, field) {
  if (!config) return undefined;
  if (field.startsWith('s3.')) return config.s3 ? config.s3[field.slice(3)] : undefined;
  if (field.startsWith('cache.')) return config.cache ? config.cache[field.slice(6)] : undefined;
  return config[field];
}

export class SettingsForm {
  /**
   * onChange() is called after any edit that may change dirty state, mode or
   * buttons; onInspect() when what the grant check depends on changed (the
   * grant, the bucket, the mode, the object-key choice).
   * @param {{onChange?: () => void, onInspect?: (why: string) => void}} o
   */
  constructor({ onChange, onInspect }) {
    this.form = /** @type {HTMLFormElement} */ ($('settings'));
    this.onChange = onChange || (() => {});
    this.onInspect = onInspect || (() => {});
    /** @type {Config | null} the last config the backend gave us */
    this.saved = null;
    this.savedCred = 'grant';
    /** @type {Set<string>} fields edited since the last fill */
    this.touched = new Set();
    /** @type {Set<string>} fields left at least once (for "too short" messages) */
    this.blurred = new Set();
    /** the one-click choice: unencrypted object keys for this registry (saved with the form) */
    this.unencryptedKeys = false;
    /** settings are saved (else this is the first-run setup) */
    this.configured = false;

    for (const field of ALL_FIELDS) {
      const input = this.input(field);
      input.addEventListener('input', () => {
        this.touched.add(field);
        this.checkField(field, { typing: true });
        this.saveDraft();
        if (field === 'accessGrant' || field === 'bucket') this.onInspect(field);
        this.onChange();
      });
      input.addEventListener('blur', () => {
        this.blurred.add(field);
        if (this.touched.has(field)) this.checkField(field);
      });
    }
    /** @param {Event} e */
    const onFormChange = (e) => {
      const t = /** @type {HTMLInputElement} */ (e.target);
      if (t.name === 'cache.enabled') {
        this.touched.add('cache.enabled');
        if (!t.checked) for (const f of CACHE_FIELDS) setFieldError(f, '');
        setFieldError('cache.enabled', '');
        this.updateVisibility();
        this.saveDraft();
        this.onChange();
      } else if (t.name === 'mode' || t.name === 'cred') {
        this.touched.add(t.name);
        if (t.name === 'mode') this.applyModeDefaults();
        this.updateVisibility();
        this.saveDraft();
        this.onInspect(t.name);
        this.onChange();
      }
    };
    this.form.addEventListener('change', onFormChange);
    // Tab reaches every storage choice in More storage options (a radio
    // group is one Tab stop, its other choices reached with the arrow keys):
    // from the fold's summary to its first choice, from choice to choice,
    // and back; Space picks the focused one
    this.form.addEventListener('keydown', (e) => {
      if (e.key !== 'Tab' || e.altKey || e.ctrlKey || e.metaKey) return;
      const fold = /** @type {HTMLDetailsElement} */ ($('more-modes'));
      if (!fold.open) return;
      const choices = /** @type {HTMLInputElement[]} */ ([...fold.querySelectorAll('input[name="mode"]')]).filter((r) => !r.disabled);
      const t = /** @type {HTMLElement} */ (e.target);
      const summary = fold.querySelector('summary');
      let next = null;
      if (t === summary && !e.shiftKey) next = choices[0];
      else if (t instanceof HTMLInputElement && choices.includes(t)) {
        const i = choices.indexOf(t);
        next = e.shiftKey ? choices[i - 1] || summary : choices[i + 1] || null;
      }
      if (next) {
        e.preventDefault();
        next.focus();
      }
    });
    // the Docker Hub cache's switch and fields live in its own section
    $('cache-form').addEventListener('change', onFormChange);
    for (const btn of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('#settings [data-reveal], #cache-form [data-reveal]'))) {
      btn.addEventListener('click', () => {
        const input = /** @type {HTMLInputElement} */ ($(btn.dataset.reveal));
        const show = input.type === 'password';
        input.type = show ? 'text' : 'password';
        btn.setAttribute('aria-pressed', String(show));
        btn.textContent = show ? 'Hide' : 'Show';
        btn.setAttribute('aria-label', `${show ? 'Hide' : 'Show'} ${/** @type {Record<string,string>} */ (REVEAL_NAMES)[btn.dataset.reveal] || 'secret'}`);
      });
    }
    // Until the saved settings arrive, show the defaults.
    this.input('port').value = DEFAULTS.port;
    this.input('bind').value = DEFAULTS.bind;
    this.input('cache.port').value = DEFAULTS.cachePort;
    this.input('cache.upstream').value = DEFAULTS.cacheUpstream;
    this.setTtl(DEFAULTS.cacheTtl);
    this.updateVisibility();
  }

  /** The cache checkbox. */
  get cacheBox() {
    return /** @type {HTMLInputElement} */ ($('f-cache-enabled'));
  }

  /** Whether the saved settings have the cache on. */
  savedCacheOn() {
    return this.saved?.cache?.enabled === true;
  }

  /** Whether the form asks for the cache (the storj-native mode cannot have it). */
  cacheOn() {
    return this.cacheBox.checked && this.mode !== 'storj-native';
  }

  /**
   * Selects a TTL; one the list does not offer (set through the API, e.g.
   * "30m") gets an option of its own, so that saving keeps it.
   * @param {string} ttl
   */
  setTtl(ttl) {
    const sel = /** @type {HTMLSelectElement} */ (/** @type {unknown} */ (this.input('cache.ttl')));
    const v = ttl === '' ? DEFAULTS.cacheTtl : ttl;
    if (![...sel.options].some((o) => o.value === v)) sel.append(new Option(`${ttlWords(v)} (${v}, saved)`, v));
    sel.value = v;
  }

  /** @param {string} field @returns {HTMLInputElement} */
  input(field) {
    return /** @type {HTMLInputElement} */ ($(fieldInputId(field)));
  }

  /** @param {string} selector */
  radio(selector) {
    return /** @type {HTMLInputElement | null} */ (this.form.querySelector(selector));
  }

  get mode() {
    return this.radio('input[name="mode"]:checked')?.value || 'storj';
  }

  set mode(m) {
    const r = this.radio(`input[name="mode"][value="${CSS.escape(m)}"]`) || this.radio('input[name="mode"][value="storj"]');
    r.checked = true;
    // a mode from "More storage options" is shown, not hidden in a fold
    if (r.value !== 'storj') /** @type {HTMLDetailsElement} */ ($('more-modes')).open = true;
  }

  get cred() {
    return this.radio('input[name="cred"]:checked')?.value || 'grant';
  }

  set cred(c) {
    this.radio(`input[name="cred"][value="${c === 'keys' ? 'keys' : 'grant'}"]`).checked = true;
  }

  /** Whether the mode reads an access grant (the grant check applies). */
  usesGrant() {
    const m = this.mode;
    return m === 'storj' || m === 'storj-native' || (m === 'storj-hosted' && this.cred === 'grant');
  }

  /** @param {string} field */
  value(field) {
    const v = this.input(field).value;
    return field === 'accessGrant' ? v.replace(/\s+/g, '') : v.trim();
  }

  /** Whether a field is part of the current mode (and credential choice). */
  /** @param {string} field */
  fieldActive(field) {
    if (field.startsWith('cache.')) return this.cacheOn();
    const input = this.input(field);
    const box = /** @type {HTMLElement | null} */ (input.closest('[data-modes]'));
    if (!box) return true;
    if (!box.dataset.modes.split(' ').includes(this.mode)) return false;
    const credBox = /** @type {HTMLElement | null} */ (input.closest('[data-cred]'));
    if (credBox && this.mode === 'storj-hosted' && credBox.dataset.cred !== this.cred) return false;
    if (field === 'authService' && this.mode === 'storj-hosted' && this.cred !== 'grant') return false;
    return true;
  }

  updateVisibility() {
    const mode = this.mode;
    const cred = this.cred;
    for (const node of /** @type {NodeListOf<HTMLElement>} */ (this.form.querySelectorAll('[data-modes]'))) {
      let show = node.dataset.modes.split(' ').includes(mode);
      if (show && node.dataset.cred && mode === 'storj-hosted') show = node.dataset.cred === cred;
      node.hidden = !show;
    }
    for (const a of /** @type {NodeListOf<HTMLElement>} */ (this.form.querySelectorAll('[data-storj-only]'))) a.hidden = !mode.startsWith('storj');
    const port = this.value('port') || DEFAULTS.port;
    const bind = this.value('bind') || DEFAULTS.bind;
    $('advanced-summary').textContent = `· port ${port}${bind === DEFAULTS.bind ? '' : `, listening on ${bind}`}`;
    const loop = isLoopback(this.value('bind') || DEFAULTS.bind);
    $('help-bind').textContent = loop
      ? 'Only this computer can reach the registry.'
      : 'Other machines on your network can reach this registry, with a login: it needs a registry user first (Access).';
    $('help-bind').classList.toggle('warn', !loop);
    this.updateCache();
    this.updateSecretHints();
  }

  /** The cache section: its fields while on; off, with the reason, in the storj-native mode. */
  updateCache() {
    const native = this.mode === 'storj-native';
    const box = this.cacheBox;
    box.disabled = native;
    $('cache-section').classList.toggle('cache-disabled', native);
    $('cache-native').hidden = !native;
    $('cache-fields').hidden = !this.cacheOn();
    $('cache-badge').hidden = !this.cacheOn();
    const upstream = this.value('cache.upstream') || DEFAULTS.cacheUpstream;
    $('cache-advanced-summary').textContent = upstream === DEFAULTS.cacheUpstream ? '· upstream Docker Hub' : `· upstream ${upstream}`;
  }

  updateSecretHints() {
    const grantSet = secretIsSet(this.saved?.accessGrant);
    const secretSet = secretIsSet(this.saved?.s3?.secretKey) && this.saved?.s3?.fromGrant !== true;
    $('grant-set').hidden = !grantSet;
    $('secret-set').hidden = !secretSet;
    const tokenSet = secretIsSet(this.saved?.cache?.token);
    $('cache-token-set').hidden = !tokenSet;
    this.input('cache.token').placeholder = tokenSet ? 'saved — leave empty to keep' : 'dckr_pat_…';
    this.input('accessGrant').placeholder = grantSet ? 'saved — leave empty to keep' : 'Paste your access grant';
    this.input('s3.secretKey').placeholder = secretSet ? 'saved — leave empty to keep' : '';
  }

  applyModeDefaults() {
    if (this.mode === 'storj-hosted') {
      // an endpoint and region saved for another mode (a generic S3
      // service) are not Storj's hosted gateway: start from its defaults
      const fromOtherMode = this.saved?.mode && this.saved.mode !== 'storj-hosted';
      if (fromOtherMode && !this.touched.has('s3.endpoint') && this.value('s3.endpoint') === str(configValue(this.saved, 's3.endpoint')))
        this.input('s3.endpoint').value = '';
      if (fromOtherMode && !this.touched.has('s3.region') && this.value('s3.region') === str(configValue(this.saved, 's3.region')))
        this.input('s3.region').value = '';
      if (!this.value('s3.endpoint')) this.input('s3.endpoint').value = DEFAULTS.hostedEndpoint;
      if (!this.value('s3.region')) this.input('s3.region').value = DEFAULTS.hostedRegion;
      if (!this.value('authService')) this.input('authService').value = DEFAULTS.authService;
    } else if (this.mode === 's3') {
      // The hosted gateway's defaults are wrong for a generic S3 service
      // unless the user chose them.
      if (!this.touched.has('s3.endpoint') && this.value('s3.endpoint') === DEFAULTS.hostedEndpoint && this.saved?.mode !== 's3')
        this.input('s3.endpoint').value = str(configValue(this.saved, 's3.endpoint') === DEFAULTS.hostedEndpoint ? '' : configValue(this.saved, 's3.endpoint'));
      if (!this.touched.has('s3.region') && this.value('s3.region') === DEFAULTS.hostedRegion && this.saved?.mode !== 's3')
        this.input('s3.region').value = '';
    }
    for (const f of ALL_FIELDS) if (!this.fieldActive(f)) setFieldError(f, '');
  }

  /**
   * Sets the form from a GET/PUT /api/config answer. Fields the user is
   * editing keep their text unless force is set (after a successful save).
   */
  /** @param {Config} config @param {{force?: boolean}} [opts] */
  fill(config, { force = false } = {}) {
    this.saved = config || {};
    if (!this.touched.has('unencryptedKeys')) this.unencryptedKeys = this.saved.unencryptedKeys === true;
    if (force) this.touched.clear();
    if (!this.touched.has('cache.enabled')) this.cacheBox.checked = this.savedCacheOn();
    const cfg = this.saved;
    // a new setup starts from the recommended mode
    if (!this.touched.has('mode')) this.mode = this.configured ? cfg.mode || 'local' : 'storj';
    this.savedCred = this.pastedKeys() ? 'keys' : 'grant';
    if (!this.touched.has('cred')) this.cred = this.savedCred;
    for (const field of ALL_FIELDS) {
      if (this.touched.has(field)) continue;
      if (SECRETS.includes(field)) {
        this.input(field).value = '';
        continue;
      }
      if (field === 'cache.ttl') this.setTtl(this.savedValue(field));
      else this.input(field).value = this.savedValue(field);
    }
    if (this.mode === 'storj-hosted') this.applyModeDefaults();
    this.updateVisibility();
  }

  /** Whether the saved settings use S3 keys the user pasted (not ones registered from a grant). */
  pastedKeys() {
    const s3 = this.saved?.s3;
    return this.saved?.mode === 'storj-hosted' && Boolean(s3?.accessKey) && secretIsSet(s3?.secretKey) && s3?.fromGrant !== true;
  }

  /** The saved value of a non-secret field as the form would show it. */
  /** @param {string} field */
  savedValue(field) {
    // Keys the backend obtained from the Auth Service are not the user's to edit.
    if (field === 's3.accessKey' && this.saved?.s3?.fromGrant === true) return '';
    let v = str(configValue(this.saved, field));
    if (field === 'port' && v === '') v = DEFAULTS.port;
    if (field === 'bind' && v === '') v = DEFAULTS.bind;
    if (field === 'authService' && v === '') v = DEFAULTS.authService;
    if (field === 'cache.port' && v === '') v = DEFAULTS.cachePort;
    if (field === 'cache.upstream' && v === '') v = DEFAULTS.cacheUpstream;
    if (field === 'cache.ttl' && v === '') v = DEFAULTS.cacheTtl;
    return v;
  }

  isDirty() {
    if (!this.saved) return this.touched.size > 0;
    if (!this.configured) return this.touched.size > 0;
    if (this.mode !== (this.saved.mode || 'local')) return true;
    if (this.unencryptedKeys !== (this.saved.unencryptedKeys === true)) return true;
    if (this.mode === 'storj-hosted' && this.cred !== this.savedCred) return true;
    for (const field of STORAGE_FIELDS) {
      if (!this.fieldActive(field)) continue;
      if (SECRETS.includes(field)) {
        if (this.value(field) !== '') return true;
      } else if (this.value(field) !== this.savedValue(field)) {
        if (this.mode === 'storj-hosted' && !this.touched.has(field)) continue; // defaults filled in
        return true;
      }
    }
    return false;
  }

  /** Whether the Docker Hub cache's switch or fields differ from what is saved. */
  cacheDirty() {
    if (this.cacheOn() !== this.savedCacheOn()) return true;
    if (!this.cacheOn()) return false;
    // a username cleared next to a saved token clears the token too
    if (this.value('cache.username') === '' && secretIsSet(this.saved?.cache?.token)) return true;
    for (const field of CACHE_FIELDS) {
      if (SECRETS.includes(field)) {
        if (this.value(field) !== '') return true;
      } else if (this.value(field) !== this.savedValue(field)) return true;
    }
    return false;
  }

  /**
   * Client-side check of one field; returns the message ('' when fine).
   * typing: the user is still typing, so "too short/empty" waits for blur.
   */
  /** @param {string} field @param {{typing?: boolean}} [opts] */
  checkField(field, { typing = false } = {}) {
    if (!this.fieldActive(field)) {
      setFieldError(field, '');
      return '';
    }
    const v = this.value(field);
    let msg = '';
    const lenient = typing && !this.blurred.has(field);
    switch (field) {
      case 'bucket':
        msg = bucketError(v);
        if (lenient && (v === '' || (v.length < 3 && !msg.startsWith('Use')) || /must start and end|non-empty parts/.test(msg))) msg = '';
        break;
      case 'port':
        msg = portError(v);
        if (lenient && v === '') msg = '';
        break;
      case 'bind':
        msg = bindError(v);
        if (lenient) msg = v === '' || /^[0-9a-fA-F:.]*$/.test(v) ? '' : msg;
        break;
      case 's3.endpoint':
        msg = urlError(v, 'endpoint URL');
        if (lenient) msg = '';
        break;
      case 'authService':
        msg = v === '' ? '' : urlError(v, 'Auth Service URL');
        if (lenient) msg = '';
        break;
      case 'accessGrant':
        msg = grantHint(v);
        break;
      case 'cache.port':
        msg = cachePortError(v, this.value('port') || DEFAULTS.port);
        if (lenient && v === '') msg = '';
        break;
      case 'cache.ttl':
        msg = cacheTtlError(v);
        break;
      case 'cache.upstream':
        msg = urlError(v, 'upstream URL');
        if (lenient) msg = '';
        break;
      case 'cache.username':
        msg = /\s/.test(v) ? 'A user name has no spaces.' : '';
        break;
      case 'cache.token':
        msg = /\s/.test(v) ? 'An access token has no spaces or line breaks.' : '';
        break;
      default:
        msg = '';
    }
    if (field === 'bind' || field === 'cache.upstream') this.updateVisibility();
    // the two ports must differ: a change of the registry's re-checks the cache's
    if (field === 'port' && this.cacheOn() && this.touched.has('cache.port')) this.checkField('cache.port', { typing });
    setFieldError(field, msg);
    return msg;
  }

  /**
   * Checks every field of the mode (the storage form's, or the cache's);
   * returns the first bad field's name or ''.
   * @param {'storage' | 'cache'} [which]
   */
  checkAll(which = 'storage') {
    let first = '';
    for (const field of which === 'cache' ? CACHE_FIELDS : STORAGE_FIELDS) {
      this.blurred.add(field);
      let msg = this.checkField(field);
      if (!msg && this.fieldActive(field)) msg = this.requiredMessage(field);
      if (msg) {
        setFieldError(field, msg);
        if (!first) first = field;
      }
    }
    return first;
  }

  /* Required fields that the backend would refuse as missing. Secrets are
   * required only when none is saved. */
  /** @param {string} field */
  requiredMessage(field) {
    const v = this.value(field);
    if (v !== '') return '';
    const mode = this.mode;
    if (field === 'accessGrant' && (mode === 'storj' || mode === 'storj-native' || (mode === 'storj-hosted' && this.cred === 'grant')))
      return secretIsSet(this.saved?.accessGrant) ? '' : 'Paste an access grant.';
    if (field === 's3.endpoint' && (mode === 's3' || mode === 'storj-hosted')) return 'Enter the endpoint URL.';
    if (field === 'bucket' && mode !== 'local') return 'Enter the bucket name.';
    if (field === 'cache.upstream') return 'Enter the upstream URL, e.g. https://registry-1.docker.io.';
    if (field === 'cache.username' && this.value('cache.token') !== '') return 'Enter the user the access token belongs to.';
    if (field === 'cache.token' && this.value('cache.username') !== '' && !secretIsSet(this.saved?.cache?.token))
      return 'Paste the access token of this user (or leave the user empty).';
    return '';
  }

  clearErrors() {
    for (const field of STORAGE_FIELDS) setFieldError(field, '');
    setFormError('');
  }

  clearCacheErrors() {
    for (const field of CACHE_FIELDS) setFieldError(field, '');
    setFieldError('cache.enabled', '');
    $('cache-form-error').hidden = true;
  }

  /** The PUT /api/config body for the current mode; secrets left empty are omitted (kept). */
  body() {
    const mode = this.mode;
    /** @type {Record<string, any>} */
    const b = { mode };
    const port = this.value('port');
    b.port = /^\d+$/.test(port) ? Number(port) : port;
    if (this.value('bind')) b.bind = this.value('bind');
    if (mode !== 'local' && this.value('bucket') !== '') b.bucket = this.value('bucket');
    const useGrant = mode === 'storj' || mode === 'storj-native' || (mode === 'storj-hosted' && this.cred === 'grant');
    if (useGrant && this.value('accessGrant') !== '') b.accessGrant = this.value('accessGrant');
    if (mode === 's3' || mode === 'storj-hosted') {
      /** @type {Record<string, any>} */
      const s3 = {};
      if (this.value('s3.endpoint') !== '') s3.endpoint = this.value('s3.endpoint');
      if (this.value('s3.region') !== '') s3.region = this.value('s3.region');
      if (mode === 's3' || this.cred === 'keys') {
        if (this.value('s3.accessKey') !== '') s3.accessKey = this.value('s3.accessKey');
        if (this.value('s3.secretKey') !== '') s3.secretKey = this.value('s3.secretKey');
      } else if (secretIsSet(this.saved?.s3?.secretKey) && this.saved?.s3?.fromGrant !== true) {
        // Switching to the grant from pasted keys (of the hosted gateway or
        // of another S3 service): the backend uses keys when it has them, so
        // drop them and let it register the grant.
        s3.accessKey = null;
        s3.secretKey = null;
      }
      b.s3 = s3;
    }
    if (mode === 'storj-hosted' && this.cred === 'grant') {
      // authService is sent only when it matters, so that a backend without
      // the field does not refuse the default.
      const a = this.value('authService');
      const savedHasIt = this.saved && Object.prototype.hasOwnProperty.call(this.saved, 'authService');
      if (a !== '' && (savedHasIt || a !== DEFAULTS.authService)) b.authService = a;
    }
    // sent when it matters, so that a backend without the field does not refuse it
    if (this.unencryptedKeys || (this.saved && Object.prototype.hasOwnProperty.call(this.saved, 'unencryptedKeys'))) b.unencryptedKeys = this.unencryptedKeys;
    // the Docker Hub cache is saved from its own section (cacheBody)
    return b;
  }

  /**
   * The "cache" member of the PUT body: the whole cache when on; when turned
   * off, {enabled: false} only (its port, upstream, user and token stay
   * saved, so that turning it on again needs no retyping); left out when it
   * stays off (a backend without the cache does not see the field).
   * @returns {Record<string, any> | undefined}
   */
  cacheBody() {
    const on = this.cacheOn();
    // off: the rest of what is saved stays (the backend merges member by
    // member; typed values of the hidden fields are not sent)
    if (!on) return this.savedCacheOn() ? { enabled: false } : undefined;
    const port = this.value('cache.port');
    const user = this.value('cache.username');
    const token = this.value('cache.token');
    /** @type {Record<string, any>} */
    const c = {
      enabled: true,
      port: /^\d+$/.test(port) ? Number(port) : port,
      upstream: this.value('cache.upstream'),
      ttl: this.value('cache.ttl'),
      username: user === '' ? null : user,
    };
    if (token !== '') c.token = token;
    else if (user === '' && secretIsSet(this.saved?.cache?.token)) c.token = null; // no user: no token
    return c;
  }

  /** The one-click fix for encrypted object keys, or its undo. @param {boolean} on */
  setUnencryptedKeys(on) {
    this.unencryptedKeys = on;
    this.touched.add('unencryptedKeys');
    this.onInspect('unencryptedKeys');
    this.onChange();
  }

  /**
   * Fills the bucket from the grant when the grant names exactly one and the
   * user has not typed a bucket; true when it did.
   * @param {string} name
   */
  suggestBucket(name) {
    if (!name || this.touched.has('bucket') || this.value('bucket') !== '') return false;
    this.input('bucket').value = name;
    this.touched.add('bucket');
    this.checkField('bucket');
    this.saveDraft();
    this.onChange();
    return true;
  }

  clearSecrets() {
    for (const f of SECRETS) this.input(f).value = '';
  }

  saveDraft() {
    try {
      if (!this.isDirty() && !this.cacheDirty()) {
        sessionStorage.removeItem(DRAFT_KEY);
        return;
      }
      /** @type {Record<string, string>} */
      const fields = {};
      for (const f of DRAFTABLE) if (this.touched.has(f)) fields[f] = this.input(f).value;
      const draft = { mode: this.mode, cred: this.cred, cache: this.cacheBox.checked, touched: [...this.touched].filter((f) => !SECRETS.includes(f) && f !== 's3.accessKey'), fields };
      sessionStorage.setItem(DRAFT_KEY, JSON.stringify(draft));
    } catch {
      /* storage may be unavailable; the draft is a convenience */
    }
  }

  /** Re-applies unsaved edits from an earlier visit of the tab. */
  restoreDraft() {
    let draft;
    try {
      draft = JSON.parse(sessionStorage.getItem(DRAFT_KEY) || 'null');
    } catch {
      draft = null;
    }
    if (!draft || typeof draft !== 'object') return false;
    if (draft.touched?.includes('mode') && typeof draft.mode === 'string') {
      this.mode = draft.mode;
      this.touched.add('mode');
    }
    if (draft.touched?.includes('cred')) {
      this.cred = draft.cred;
      this.touched.add('cred');
    }
    if (draft.touched?.includes('cache.enabled') && typeof draft.cache === 'boolean') {
      this.cacheBox.checked = draft.cache;
      this.touched.add('cache.enabled');
    }
    for (const [f, v] of Object.entries(draft.fields || {})) {
      if (!DRAFTABLE.includes(f) || typeof v !== 'string') continue;
      if (f === 'cache.ttl') this.setTtl(v);
      else this.input(f).value = v;
      this.touched.add(f);
    }
    if (this.mode === 'storj-hosted') this.applyModeDefaults();
    this.updateVisibility();
    for (const f of this.touched) if (ALL_FIELDS.includes(f)) this.checkField(f);
    // the storage form reopens only for edits of its own (not the cache's)
    return [...this.touched].some((f) => f !== 'cache.enabled' && !CACHE_FIELDS.includes(f));
  }

  clearDraft() {
    try {
      sessionStorage.removeItem(DRAFT_KEY);
    } catch {
      /* ignore */
    }
  }

  /** Puts a backend validation error beside its field; false when the field is not on screen. */
  /** @param {string} field @param {string} message */
  showServerFieldError(field, message) {
    const shown = setFieldError(field, message);
    if (shown) this.input(field).focus();
    return shown;
  }

  /** Throws away the cache section's unsaved edits (the storage form's stay). */
  discardCache() {
    for (const f of [...CACHE_FIELDS, 'cache.enabled']) this.touched.delete(f);
    this.cacheBox.checked = this.savedCacheOn();
    this.input('cache.token').value = '';
    this.clearCacheErrors();
    this.fill(this.saved || {});
    this.saveDraft();
  }

  discard() {
    // the cache section's unsaved edits are its own: they stay
    for (const f of [...this.touched]) if (f !== 'cache.enabled' && !CACHE_FIELDS.includes(f)) this.touched.delete(f);
    this.unencryptedKeys = this.saved?.unencryptedKeys === true;
    for (const f of SECRETS) if (f !== 'cache.token') this.input(f).value = '';
    this.clearErrors();
    this.fill(this.saved || {});
    this.saveDraft();
  }
}
