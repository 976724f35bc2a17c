import { closeWidget } from '../browser/widget-shopper.js';
import { CheckFailure, StepNotApplicable } from '../outcome.js';
import { isSandboxPage } from '../shopper.js';
import { needPayment } from './need-payment.js';
import type { StepImpl } from './step.js';

/**
 * The shopper closes the widget with ×. Inside the iframe the widget posts `"close"` [doc, spec §8];
 * the shop's page must remove `#iframe_widget`, so the shopper is back on the shop. The payment
 * stays pending (nothing was paid).
 */
export const closeWidgetStep: StepImpl<'close_widget'> = {
  explain: () =>
    'the shopper presses × in the widget: the page must remove #iframe_widget on the "close" message and stay on the shop',
  async run(_step, state, run) {
    if (!state.browser)
      throw new StepNotApplicable('needs the browser trigger (the widget runs in the shop page)');
    const hash = needPayment(state, run, 'close the widget of');
    const r = await closeWidget(state.browser, run.config.timeouts.trigger_ms);
    if (!r.button)
      throw new StepNotApplicable('the widget shows no × (the order asked for show_close_button: false)');
    if (!r.messages.includes('close')) {
      throw new CheckFailure({
        check: 'sandbox',
        message: 'the widget did not post "close" to the page when × was pressed',
        expected: 'the message "close" (spec §8)',
        actual: `messages: ${r.messages.map((m) => JSON.stringify(m)).join(', ') || 'none'}; page ${r.url}`,
        evidence: { path: [`page ${r.url}`] },
        hint: 'this is the sandbox side: use a sandbox of the same version as the runner',
      });
    }
    if (!r.removed || (r.left && isSandboxPage(run.sandbox.url)(new URL(r.url)))) {
      throw new CheckFailure({
        check: 'widget_close',
        message: 'the shop page did not remove the widget iframe when the widget posted "close"',
        expected: '#iframe_widget removed from the page within 5 s of the "close" message',
        actual: `${r.removed ? `the page went to the widget's own ${r.url}` : `#iframe_widget is still on ${r.url}`}; the page received ${r.messages.map((m) => JSON.stringify(m)).join(', ')}`,
        evidence: { path: [`page ${r.url}`, ...r.messages.map((m) => `message to the page: ${m}`)] },
        hint: 'in your message listener, when e.data === "close" remove the element with id "iframe_widget" (the shopper is stuck behind the widget otherwise)',
      });
    }
    const tx = await run.sandbox.transaction(hash);
    state.notes.push(
      `${r.left ? `the page left the widget for ${r.url}` : `the page removed #iframe_widget and stayed on ${r.url}`}; the payment is ${tx.status}`,
    );
    if (tx.status !== 'pending') {
      throw new CheckFailure({
        check: 'payment_outcome',
        message: `closing the widget left the payment ${tx.status}, not pending`,
        expected: 'pending (the shopper paid nothing)',
        actual: tx.status,
        evidence: { request: `GET /__admin/transactions/${hash}` },
        hint: 'this is the sandbox side: check the scenario active for the merchant',
      });
    }
  },
};
