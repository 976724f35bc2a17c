import { closeWidget } from '../browser/widget-shopper.js';
import { CheckFailure, StepNotApplicable } from '../outcome.js';
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
    if (!r.removed) {
      throw new CheckFailure({
        check: 'widget_close',
        message: 'the shop page did not remove the widget iframe when the widget posted "close"',
        expected: '#iframe_widget removed from the page within 5 s of the "close" message',
        actual: `#iframe_widget is still on ${r.url}; the page received ${r.messages.length ? r.messages.map((m) => JSON.stringify(m)).join(', ') : 'no message'}`,
        evidence: { path: [`page ${r.url}`, ...r.messages.map((m) => `message to the page: ${m}`)] },
        hint: 'in your message listener, when e.data === "close" remove the element with id "iframe_widget" (the shopper is stuck behind the widget otherwise)',
      });
    }
    const tx = await run.sandbox.transaction(hash);
    state.notes.push(`the page removed #iframe_widget and stayed on ${r.url}; the payment is ${tx.status}`);
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
