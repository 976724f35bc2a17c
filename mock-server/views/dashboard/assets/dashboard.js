/* global window, document, navigator, location, fetch, setTimeout, EventSource, CustomEvent, Element, HTMLFormElement */
// ktpay-mock dashboard: live updates over server-sent events, action buttons over the admin and
// merchant APIs, copy buttons. No build step and no framework. Everything from the network is
// put in the page as text (textContent), except the server's own escaped HTML fragments.

const BASE = '/__admin/ui';
const live = () => document.getElementById('live');

// ---------- toasts ----------
function toast(title, detail, isError) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const el = document.createElement('div');
  el.className = isError ? 'toast error' : 'toast';
  el.setAttribute('data-testid', isError ? 'toast-error' : 'toast-ok');
  const t = document.createElement('div');
  t.className = 'toast-title';
  t.textContent = title;
  el.appendChild(t);
  if (detail) {
    const d = document.createElement('div');
    d.className = 'toast-detail';
    d.textContent = detail;
    el.appendChild(d);
  }
  box.appendChild(el);
  setTimeout(() => el.remove(), isError ? 9000 : 4000);
}

// ---------- live region refresh ----------
let inflight = false;
let dirty = false;

function openKeys(root) {
  const keys = new Set();
  for (const d of root.querySelectorAll('details[open]')) {
    const owner = d.closest('[data-entry]');
    if (owner) keys.add(`entry:${owner.getAttribute('data-entry')}`);
  }
  return keys;
}

/**
 * What the person has typed or chosen in the live region's forms and not yet submitted, keyed by
 * the form's API and the control's name, so that a refresh does not throw it away.
 */
function pendingInputs(root) {
  const pending = new Map();
  for (const control of root.querySelectorAll('form[data-api] [name]')) {
    const key = `${control.closest('form').getAttribute('data-api')}\n${control.getAttribute('name')}`;
    if (control.tagName === 'SELECT') {
      const changed = [...control.options].some((o) => o.selected !== o.defaultSelected);
      if (changed) pending.set(key, control.value);
    } else if (control.type === 'checkbox' || control.type === 'radio') {
      if (control.checked !== control.defaultChecked) pending.set(key, control.checked);
    } else if ('value' in control && control.value !== control.defaultValue) {
      pending.set(key, control.value);
    }
  }
  return pending;
}

function restoreInputs(root, pending) {
  if (pending.size === 0) return;
  for (const control of root.querySelectorAll('form[data-api] [name]')) {
    const key = `${control.closest('form').getAttribute('data-api')}\n${control.getAttribute('name')}`;
    if (!pending.has(key)) continue;
    const value = pending.get(key);
    if (typeof value === 'boolean') control.checked = value;
    else control.value = value;
  }
}

async function refresh() {
  const current = live();
  if (!current) return;
  if (inflight) {
    dirty = true;
    return;
  }
  inflight = true;
  try {
    const res = await fetch(location.href, {
      headers: { 'x-dashboard-partial': '1' },
      credentials: 'same-origin',
    });
    if (res.status === 401) {
      location.reload();
      return;
    }
    if (!res.ok) return;
    const text = await res.text();
    const tpl = document.createElement('template');
    tpl.innerHTML = text.trim();
    const next = tpl.content.firstElementChild;
    const now = live();
    if (!next || !now || next.id !== 'live') return;
    const opened = openKeys(now);
    for (const owner of next.querySelectorAll('[data-entry]')) {
      if (opened.has(`entry:${owner.getAttribute('data-entry')}`))
        owner.querySelector('details')?.setAttribute('open', '');
    }
    const known = new Set([...now.querySelectorAll('tr[data-hash]')].map((r) => r.getAttribute('data-hash')));
    for (const row of next.querySelectorAll('tr[data-hash]')) {
      if (!known.has(row.getAttribute('data-hash'))) row.classList.add('fresh');
    }
    const pending = pendingInputs(now);
    const focused = document.activeElement;
    const focusKey =
      focused && now.contains(focused) && focused.closest('form[data-api]') && focused.getAttribute('name')
        ? [focused.closest('form[data-api]').getAttribute('data-api'), focused.getAttribute('name')]
        : null;
    now.replaceWith(next);
    restoreInputs(next, pending);
    if (focusKey) {
      for (const f of next.querySelectorAll('form[data-api]')) {
        if (f.getAttribute('data-api') !== focusKey[0]) continue;
        for (const c of f.querySelectorAll('[name]')) if (c.getAttribute('name') === focusKey[1]) c.focus();
      }
    }
    syncActions();
    document.dispatchEvent(new CustomEvent('dashboard:refreshed'));
  } catch {
    // A failed refresh is retried on the next event.
  } finally {
    inflight = false;
    if (dirty) {
      dirty = false;
      setTimeout(refresh, 50);
    }
  }
}

function relevant(change) {
  const el = live();
  if (!el) return false;
  const kinds = new Set(change.kinds);
  if (kinds.has('reset') || kinds.has('purge')) return true;
  switch (el.getAttribute('data-live')) {
    case 'transactions':
      return kinds.has('transaction') || kinds.has('merchant');
    case 'transaction':
      return change.hashes === null || change.hashes.includes(el.getAttribute('data-hash'));
    case 'merchants':
      return kinds.has('merchant');
    case 'journal':
      return kinds.has('journal');
    default:
      return false;
  }
}

function connect() {
  const indicator = document.getElementById('live-indicator');
  if (!live() || typeof EventSource === 'undefined') {
    indicator?.remove();
    return;
  }
  const source = new EventSource(`${BASE}/events`);
  let opened = false;
  source.addEventListener('ready', () => {
    indicator?.setAttribute('data-state', 'open');
    // After a reconnect, changes may have been missed: refresh once.
    if (opened) refresh();
    opened = true;
  });
  source.addEventListener('change', (e) => {
    try {
      if (relevant(JSON.parse(e.data))) refresh();
    } catch {
      refresh();
    }
  });
  source.addEventListener('error', () => indicator?.setAttribute('data-state', 'closed'));
}

// ---------- actions ----------
function syncActions() {
  const el = live();
  const actions = document.getElementById('actions');
  if (!el || !actions || el.getAttribute('data-live') !== 'transaction') return;
  const allowed = new Set((el.getAttribute('data-allowed') || '').split(' ').filter(Boolean));
  for (const owner of actions.querySelectorAll('[data-op]')) {
    const button = owner.matches('button') ? owner : owner.querySelector('button[type="submit"]');
    if (button) button.disabled = !allowed.has(owner.getAttribute('data-op'));
  }
}

function fieldsOf(form) {
  const out = {};
  for (const input of form.querySelectorAll('input[name], select[name], textarea[name]')) {
    const type = input.getAttribute('data-type');
    if (type === 'bool') {
      out[input.name] = input.checked;
      continue;
    }
    const value = input.value.trim();
    if (value === '') continue;
    if (type === 'list') out[input.name] = value.split(/[\s,]+/).filter(Boolean);
    else if (type === 'int' || type === 'number') out[input.name] = Number(value.replace(',', '.'));
    else out[input.name] = value;
  }
  return out;
}

async function sealFor(appKey, payload) {
  const { default: sodium } = await import('/static/ktpay-mock/libsodium-wrappers.mjs');
  await sodium.ready;
  const key = sodium.from_base64(appKey, sodium.base64_variants.ORIGINAL);
  const cipher = sodium.crypto_box_seal(JSON.stringify(payload), key);
  return sodium.to_base64(cipher, sodium.base64_variants.ORIGINAL);
}

function describeError(body, status) {
  const err = body && typeof body === 'object' ? body.error : null;
  if (err && typeof err === 'object') {
    const message =
      err.message ||
      (err.messages
        ? Object.entries(err.messages)
            .map(([k, v]) => (k === 'error' ? v : `${k}: ${v}`))
            .join('; ')
        : '');
    const validation = err.validation
      ? Object.entries(err.validation)
          .map(([k, v]) => `${k}: ${[].concat(v).join(' ')}`)
          .join('; ')
      : '';
    return {
      title: `${err.code ?? status} ${message}`.trim(),
      detail: [validation, err.hint].filter(Boolean).join(' — '),
    };
  }
  return { title: `HTTP ${status}`, detail: typeof body === 'string' ? body.slice(0, 300) : '' };
}

function summarize(label, body) {
  if (!body || typeof body !== 'object') return label;
  if (body.outcome) return `${label}: ${body.outcome} (acquirer code ${body.acquirer_code})`;
  const payload = body.payload || (body.response && body.response.data) || body;
  if (payload.status && typeof payload.status === 'object') return `${label}: ${payload.status.status}`;
  if (typeof payload.status === 'string') return `${label}: ${payload.status}`;
  if (typeof body.flushed === 'number')
    return `${label}: ${body.flushed} deliver${body.flushed === 1 ? 'y' : 'ies'}`;
  if (body.state) return `${label}: ${body.state}`;
  if (body.app_id && body.name) return `${label}: ${body.name}`;
  return label;
}

async function callApi(spec, opts) {
  const [method0, path] = spec.split(' ');
  let method = method0;
  const headers = { 'x-ktpay-dashboard': '1' };
  let body;
  if (opts.merchantCall) {
    const actions = document.getElementById('actions');
    headers['auth-identifier'] = actions?.getAttribute('data-app-id') || '';
    headers['content-type'] = 'text/plain';
    const payload = opts.fields || {};
    body =
      Object.keys(payload).length > 0
        ? await sealFor(actions?.getAttribute('data-app-key') || '', payload)
        : '';
  } else if (opts.scenario) {
    if (!opts.fields.name) method = 'DELETE';
    else {
      headers['content-type'] = 'application/json';
      body = JSON.stringify({ name: opts.fields.name });
    }
  } else if (opts.fields) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.fields);
  }
  const res = await fetch(path, { method, headers, body, credentials: 'same-origin' });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: shown as text
  }
  const ok = res.ok && !(parsed && typeof parsed === 'object' && parsed.success === false);
  return { ok, status: res.status, body: parsed };
}

async function run(control, spec, opts) {
  const label = control.getAttribute('data-label') || 'Done';
  const buttons = control.matches('button') ? [control] : [...control.querySelectorAll('button')];
  for (const b of buttons) b.classList.add('busy');
  try {
    const result = await callApi(spec, opts);
    if (result.ok) {
      toast(summarize(label, result.body), '', false);
      if (control.hasAttribute('data-reset-on-success')) {
        for (const input of control.querySelectorAll('input:not([data-keep]):not([type="checkbox"])'))
          input.value = '';
      }
    } else {
      const e = describeError(result.body, result.status);
      toast(`${label} failed: ${e.title}`, e.detail, true);
    }
  } catch (err) {
    toast(`${label} failed`, String(err && err.message ? err.message : err), true);
  } finally {
    for (const b of buttons) b.classList.remove('busy');
    refresh();
  }
}

document.addEventListener('click', (e) => {
  const target = e.target instanceof Element ? e.target : null;
  const copy = target?.closest('button[data-copy]');
  if (copy) {
    const value = copy.getAttribute('data-copy') || '';
    const done = () => {
      copy.classList.add('copied');
      copy.textContent = 'Copied';
      setTimeout(() => {
        copy.classList.remove('copied');
        copy.textContent = 'Copy';
      }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext)
      navigator.clipboard.writeText(value).then(done, () => fallbackCopy(value, done));
    else fallbackCopy(value, done);
    return;
  }
  const button = target?.closest('button[data-api]');
  if (button && !button.closest('form[data-api]')) {
    e.preventDefault();
    run(button, button.getAttribute('data-api'), {});
  }
});

function fallbackCopy(value, done) {
  const area = document.createElement('textarea');
  area.value = value;
  document.body.appendChild(area);
  area.select();
  try {
    document.execCommand('copy');
    done();
  } finally {
    area.remove();
  }
}

document.addEventListener('submit', (e) => {
  const form = e.target instanceof HTMLFormElement ? e.target : null;
  if (!form || !form.hasAttribute('data-api')) return;
  e.preventDefault();
  run(form, form.getAttribute('data-api'), {
    fields: fieldsOf(form),
    merchantCall: form.hasAttribute('data-merchant-call'),
    scenario: form.hasAttribute('data-scenario-form'),
  });
});

document.addEventListener('change', (e) => {
  const target = e.target instanceof Element ? e.target : null;
  if (target?.hasAttribute('data-autosubmit')) target.closest('form')?.requestSubmit();
  if (target?.id === 'pay-card') {
    const brand = target.selectedOptions[0]?.getAttribute('data-brand');
    const cvc = document.querySelector('#actions input[data-cvc]');
    if (cvc) cvc.value = brand === 'amex' ? '1234' : '123';
  }
});

syncActions();
connect();
