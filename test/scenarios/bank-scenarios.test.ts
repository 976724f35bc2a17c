import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readContractData } from '../../contracts/error-catalog.js';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { BUILTIN_SCENARIO_DIR, loadScenarioDir } from '../../mock-server/scenarios/scenario-library.js';
import { buildTestApp, createPayment, nextOrderId } from '../helpers/sandbox.js';

const library = loadScenarioDir(BUILTIN_SCENARIO_DIR, createSchemaRegistry());
const outcomes = readContractData<{ codes: Record<string, { status: string; error_type: string }> }>(
  'acquirer-outcomes.json',
);
const VISA = { pan: '4405639704015096', exp_month: '12', exp_year: '30', cvc: '123' };
const CHALLENGE_CARD = { pan: '5522042705066736', exp_month: '12', exp_year: '30', cvc: '123' };

describe('bank and service scenarios (acquirer_outcome, service_outcome)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp({ clearing_delay_ms: 'manual' });
  });
  afterAll(() => app.close());

  const pay = (hash: string, card: Record<string, string>) =>
    app.inject({ method: 'POST', url: `/__admin/transactions/${hash}/pay`, payload: card });
  const statusOf = async (hash: string) => (await app.sandbox.payments.get(hash))!;

  const declines = library.filter((s) =>
    s.steps.some((st) => st.effect.type === 'acquirer_outcome' && st.effect.code && !st.effect.three_ds),
  );
  it('covers every decline family scenario', () => expect(declines.length).toBeGreaterThanOrEqual(9));
  for (const s of declines) {
    it(`${s.name}: a normally approved card ends in the scenario's code and the mapped status`, async () => {
      const effect = s.steps[0]!.effect as { code: string };
      const hash = await createPayment(app, { order_id: `scenario:${s.name}:${nextOrderId()}` });
      const res = await pay(hash, VISA);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().acquirer_code).toBe(effect.code);
      const tx = await statusOf(hash);
      expect(tx.status).toBe(outcomes.codes[effect.code]!.status);
      expect(tx.error!.error_type).toBe(outcomes.codes[effect.code]!.error_type);
      // the description names the code it produces
      expect(s.description).toContain(effect.code);
    });
  }

  it('3ds-frictionless: the challenge card pays without an OTP', async () => {
    const hash = await createPayment(app, { order_id: `scenario:3ds-frictionless:${nextOrderId()}` });
    const res = await pay(hash, CHALLENGE_CARD);
    expect(res.json()).toMatchObject({ outcome: 'approved', three_ds: 'frictionless' });
    expect((await statusOf(hash)).status).toBe('success');
  });

  it('3ds-challenge-pass: a frictionless card needs an OTP, and 1111 approves', async () => {
    const hash = await createPayment(app, { order_id: `scenario:3ds-challenge-pass:${nextOrderId()}` });
    const without = await pay(hash, VISA);
    expect(without.json().error.validation.otp).toBeDefined();
    expect((await statusOf(hash)).status).toBe('pending');
    const res = await pay(hash, { ...VISA, otp: '1111' });
    expect(res.json()).toMatchObject({ outcome: 'approved', three_ds: 'challenge' });
    expect((await statusOf(hash)).status).toBe('success');
  });

  for (const name of ['3ds-challenge-fail', '3ds-abandoned']) {
    it(`${name}: even OTP 1111 ends in 191 / error / ERROR_INPUT`, async () => {
      const hash = await createPayment(app, { order_id: `scenario:${name}:${nextOrderId()}` });
      const res = await pay(hash, { ...VISA, otp: '1111' });
      expect(res.json()).toMatchObject({ outcome: 'declined', acquirer_code: '191', three_ds: 'challenge' });
      expect(await statusOf(hash)).toMatchObject({ status: 'error', error: { error_type: 'ERROR_INPUT' } });
    });
  }

  it('shopper-timeout: the bank does not answer, the payment stays pending', async () => {
    const hash = await createPayment(app, { order_id: `scenario:shopper-timeout:${nextOrderId()}` });
    const res = await pay(hash, VISA);
    expect(res.statusCode).toBe(422);
    expect(res.json().error.validation.pan[0]).toContain('Сервер не отвечает');
    expect((await statusOf(hash)).status).toBe('pending');
  });

  it('service-refused: a service payment with a normal contract ends denied / ERROR_SYSTEM', async () => {
    const hash = await createPayment(app, {
      order_id: `scenario:service-refused:${nextOrderId()}`,
      type: 'service',
      service: { service_id: 1, contract_value: '17-25022' },
    });
    await pay(hash, VISA);
    expect(await statusOf(hash)).toMatchObject({ status: 'denied', error: { error_type: 'ERROR_SYSTEM' } });
    expect((await statusOf(hash)).history.map((h) => h.status)).toEqual(['pending', 'authorized', 'denied']);
  });

  it('a merchant-level scenario applies to pages too: the card form shows the decline', async () => {
    await app.inject({
      method: 'PUT',
      url: '/__admin/merchants/e2d3d70d53c67bcd377266f74e98587c/scenario',
      payload: { name: 'decline-insufficient-funds' },
    });
    try {
      const hash = await createPayment(app);
      await pay(hash, VISA);
      expect((await statusOf(hash)).error?.error_message).toBe('Недостаточно средств на карте.');
    } finally {
      await app.inject({
        method: 'DELETE',
        url: '/__admin/merchants/e2d3d70d53c67bcd377266f74e98587c/scenario',
      });
    }
    const plain = await createPayment(app);
    await pay(plain, VISA);
    expect((await statusOf(plain)).status).toBe('success');
  });
});
