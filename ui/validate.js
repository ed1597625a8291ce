// @ts-check
// Input checks that mirror the backend's rules, so that mistakes show while
// typing. The backend checks again; its answer is the one that counts.
// Each function returns an error message, or '' when the value is fine.

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Storj/S3 bucket names (storj satellite/metainfo/validation.go). */
/** @param {string} name */
export function bucketError(name) {
  if (name === '') return 'Enter the name of an existing bucket.';
  if (name.length < 3) return 'A bucket name has at least 3 characters.';
  if (name.length > 63) return 'A bucket name has at most 63 characters.';
  if (/[A-Z]/.test(name)) return 'Use lowercase letters only.';
  if (/[^a-z0-9.-]/.test(name)) return 'Use only lowercase letters, digits, dots (.) and hyphens (-).';
  for (const label of name.split('.')) {
    if (label === '') return 'Dots must separate non-empty parts (no leading, trailing or double dots).';
    if (!/^[a-z0-9]/.test(label) || !/[a-z0-9]$/.test(label))
      return 'Each part between dots must start and end with a letter or digit.';
  }
  if (looksLikeIPv4(name)) return 'A bucket name cannot look like an IP address.';
  return '';
}

/* Storj refuses anything that parses as dotted-quad, including leading zeros. */
/** @param {string} name */
function looksLikeIPv4(name) {
  const parts = name.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** @param {string} text */
export function portError(text) {
  const s = String(text).trim();
  if (s === '') return 'Enter a port number.';
  if (!/^\d+$/.test(s)) return 'The port is a whole number between 1 and 65535.';
  const n = Number(s);
  if (n < 1 || n > 65535) return 'The port is a whole number between 1 and 65535.';
  return '';
}

/** @param {string} s */
export function isIPv4(s) {
  return IPV4.test(s);
}

/** @param {string} s */
export function isIPv6(s) {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return false;
  let head = s;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    // an embedded IPv4 address stands for the last two groups
    if (!IPV4.test(s.slice(lastColon + 1))) return false;
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const double = head.split('::');
  if (double.length > 2) return false;
  /** @param {string} part */
  const groups = (part) => (part === '' ? [] : part.split(':'));
  const left = groups(double[0]);
  const right = double.length === 2 ? groups(double[1]) : [];
  const all = left.concat(right);
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return double.length === 2 ? all.length < 8 : all.length === 8;
}

/** @param {string} text */
export function bindError(text) {
  const s = String(text).trim();
  if (s === '') return 'Enter an IP address, e.g. 127.0.0.1.';
  if (!isIPv4(s) && !isIPv6(s)) return 'Enter an IP address such as 127.0.0.1 or 0.0.0.0 (no host names).';
  return '';
}

/** As the backend decides it (settings_bind_loopback): 127.x, ::1, ::ffff:127.x. @param {string} s */
export function isLoopback(s) {
  return /^(::ffff:)?127\./i.test(s) || s === '::1';
}

/**
 * host:port other machines use for a listen address; a wildcard bind has
 * no one address (THIS-MACHINE).
 * @param {string} bind @param {number | string} port
 */
export function remoteAddress(bind, port) {
  if (bind === '0.0.0.0' || bind === '::') return `THIS-MACHINE:${port}`;
  return bind.includes(':') ? `[${bind}]:${port}` : `${bind}:${port}`;
}

/** @param {string} text @param {string} [what] */
export function urlError(text, what = 'URL') {
  const s = String(text).trim();
  if (s === '') return `Enter the ${what}.`;
  let u;
  try {
    u = new URL(s);
  } catch {
    return `Enter a full ${what}, e.g. https://s3.example.com.`;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return `The ${what} starts with https:// or http://.`;
  return '';
}

/** Loose check that catches an obviously truncated or mistyped grant before asking the backend. */
/** @param {string} text */
export function grantHint(text) {
  const s = String(text).trim();
  if (s === '') return '';
  if (/\s/.test(s)) return 'An access grant has no spaces or line breaks.';
  if (/[^1-9A-HJ-NP-Za-km-z]/.test(s)) return 'An access grant uses only base58 characters (letters and digits, without 0, O, I and l).';
  return '';
}
