// @ts-check
// Docker Desktop's own UI services (toasts, opening links) and the
// clipboard, each with a fallback so the tab works in a plain browser.

/** @param {'success'|'warning'|'error'} kind @param {string} message */
export function toast(kind, message) {
  const t = window.ddClient?.desktopUI?.toast;
  const fn = t && (t[kind] || t.success);
  if (typeof fn === 'function') {
    try {
      fn.call(t, message);
      return;
    } catch {
      /* fall through to the console */
    }
  }
  (kind === 'error' ? console.error : console.log)(message);
}

/** @param {string} url */
export function openExternal(url) {
  const host = window.ddClient?.host;
  if (host && typeof host.openExternal === 'function') {
    try {
      host.openExternal(url);
      return;
    } catch {
      /* fall through */
    }
  }
  window.open(url, '_blank', 'noopener');
}

/** Resolves when the text is on the clipboard; rejects when no method worked. */
/** @param {string} text */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
  } catch {
    /* permissions or focus: try the old way */
  }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  ta.style.left = '-9999px';
  document.body.appendChild(ta);
  const active = /** @type {HTMLElement | null} */ (document.activeElement);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } finally {
    ta.remove();
    if (active && typeof active.focus === 'function') active.focus();
  }
  if (!ok) throw new Error('copy failed');
}

/**
 * Docker Desktop's own views (container, its logs, a volume), when the tab
 * runs inside Desktop; null in a plain browser.
 * @returns {DdNavigate | null}
 */
export function desktopNavigate() {
  const dd = window.ddClient;
  if (!dd || dd.standalone) return null;
  const nav = dd.desktopUI?.navigate;
  return nav && typeof nav.viewContainer === 'function' ? nav : null;
}

/**
 * Opens a Desktop view; resolves false when it could not.
 * @param {'viewContainer'|'viewContainerLogs'|'viewVolume'} view
 * @param {string} arg
 */
export async function navigate(view, arg) {
  const nav = desktopNavigate();
  const fn = nav && nav[view];
  if (typeof fn !== 'function') return false;
  try {
    await fn.call(nav, arg);
    return true;
  } catch {
    return false;
  }
}
