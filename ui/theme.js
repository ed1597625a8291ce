// @ts-check
// Docker Desktop injects its MUI theme options as window.__ddMuiV6Themes (or
// the V5 twin). Copy the colours we use into CSS custom properties; app.css
// carries fallbacks for both schemes for a plain browser.

/** @type {Record<string, (p: any) => unknown>} */
const VARS = {
  '--dd-primary': (p) => p.primary?.main,
  '--dd-primary-contrast': (p) => p.primary?.contrastText,
  '--dd-bg': (p) => p.background?.default,
  '--dd-paper': (p) => p.background?.paper,
  '--dd-text': (p) => p.text?.primary,
  '--dd-text-2': (p) => p.text?.secondary,
  '--dd-error': (p) => p.error?.main,
  '--dd-success': (p) => p.success?.main,
  '--dd-warning': (p) => p.warning?.main,
  '--dd-divider': (p) => p.divider,
};

/** @param {unknown} v @returns {v is string} */
function isColor(v) {
  return typeof v === 'string' && v.length > 0 && v.length < 64 && CSS.supports('color', v);
}

export function applyTheme() {
  const dark = window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;
  const root = document.documentElement;
  root.dataset.scheme = dark ? 'dark' : 'light';
  const bag = window.__ddMuiV6Themes || window.__ddMuiV5Themes;
  const opts = bag?.[dark ? 'dark' : 'light'];
  const palette = opts?.palette;
  for (const [name, pick] of Object.entries(VARS)) {
    let v;
    try {
      v = palette ? pick(palette) : undefined;
    } catch {
      v = undefined;
    }
    if (isColor(v)) root.style.setProperty(name, v);
    else root.style.removeProperty(name);
  }
  const font = opts?.typography?.fontFamily;
  if (typeof font === 'string' && font.length < 300) root.style.setProperty('--dd-font', font);
  else root.style.removeProperty('--dd-font');
  root.classList.toggle('dd-injected-theme', Boolean(palette));
}

export function watchTheme() {
  applyTheme();
  const mq = window.matchMedia?.('(prefers-color-scheme: dark)');
  if (mq?.addEventListener) mq.addEventListener('change', applyTheme);
  else if (mq?.addListener) mq.addListener(applyTheme);
}
