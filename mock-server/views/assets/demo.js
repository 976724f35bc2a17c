/* global window, document, fetch, URLSearchParams */
// The demo shop's checkout, written the way the public widget client (@nplus.tech/ktwidget-client)
// works: seal {order} with libsodium to the app_key, POST it as text/plain with Auth-Identifier,
// open /payment-card in an iframe #iframe_widget, and follow the iframe's postMessage protocol.
import sodium from './libsodium-wrappers.mjs';

const cfg = JSON.parse(document.getElementById('demo-config').textContent);
const form = document.getElementById('checkout');
const status = document.getElementById('demo-status');
const button = document.getElementById('pay-button');

const amountFormat = new Intl.NumberFormat('ru-RU', { maximumFractionDigits: 2 });
form.amount.addEventListener('input', () => {
  const amount = Number(String(form.amount.value).replace(',', '.'));
  if (Number.isFinite(amount) && amount > 0)
    button.textContent = `Оплатить ${amountFormat.format(amount)}\u00a0₸`;
});

/** Every message the widget posted, for curious developers and the browser tests. */
window.ktpayDemoMessages = [];

window.addEventListener('message', (e) => {
  window.ktpayDemoMessages.push(e.data);
  if (e.data === 'close') {
    const frame = document.getElementById('iframe_widget');
    if (frame) frame.parentNode.removeChild(frame);
    status.textContent = 'Окно оплаты закрыто.';
    button.disabled = false;
    return;
  }
  if (typeof e.data === 'string' && e.data.includes('http')) {
    window.location.href = e.data;
  }
});

function openWidget(hash, showCloseButton) {
  const iframe = document.createElement('iframe');
  const wrapper = document.createElement('div');
  wrapper.id = 'ktpay_widget_wrapper';
  iframe.setAttribute('id', 'iframe_widget');
  iframe.setAttribute('title', 'Оплата картой');
  iframe.setAttribute(
    'style',
    'position: fixed; z-index: 1000; top: 0; left: 0; width: 100%; display: block; height: 100%; border: none;',
  );
  wrapper.appendChild(iframe);
  document.body.appendChild(wrapper);
  // Exactly as the public client builds it: no "=" after show_close_button.
  iframe.src = `${cfg.origin}/payment-card?hash=${hash}&show_close_button${showCloseButton}`;
}

// `/demo?hash=<transaction_hash>` opens the widget for a payment created elsewhere (curl, tests).
const existing = new URLSearchParams(window.location.search);
if (/^[0-9a-f]{40}$/.test(existing.get('hash') || '')) {
  openWidget(existing.get('hash'), existing.get('show_close_button') !== 'false');
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  button.disabled = true;
  status.textContent = 'Создаём платёж…';
  try {
    await sodium.ready;
    const orderId = `demo-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const back = `${cfg.origin}/demo`;
    const order = {
      order_id: orderId,
      amount: Number(String(form.amount.value).replace(',', '.')),
      description: form.description.value,
      type: 'ecom',
      show_close_button: form.show_close_button.checked,
      callback_success_url: `${cfg.origin}/demo/result?outcome=success&order_id=${encodeURIComponent(orderId)}`,
      callback_failed_url: `${cfg.origin}/demo/result?outcome=failed&order_id=${encodeURIComponent(orderId)}`,
      callback_back_url: back,
    };
    const recipient = sodium.from_base64(cfg.app_key, sodium.base64_variants.ORIGINAL);
    const cipher = sodium.crypto_box_seal(JSON.stringify({ order }), recipient);
    const body = sodium.to_base64(cipher, sodium.base64_variants.ORIGINAL);
    const response = await fetch(`${cfg.origin}/api/v1/merchant-widget/payment`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'Auth-Identifier': cfg.app_id },
      body,
    });
    const json = await response.json();
    const data = json.payload || (json.response && json.response.data);
    if (!response.ok || !data) {
      const err = json.error || {};
      const text =
        err.message || (err.messages && Object.values(err.messages).join(' ')) || response.statusText;
      throw new Error(`${err.code || response.status}: ${text}`);
    }
    status.textContent = '';
    openWidget(data.transaction_hash, data.show_close_button);
  } catch (err) {
    status.textContent = `Не удалось создать платёж: ${err.message}`;
    button.disabled = false;
  }
});
