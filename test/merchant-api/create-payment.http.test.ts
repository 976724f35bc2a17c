import pactum from 'pactum';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startServer, type RunningServer } from '../../mock-server/server.js';
import { APP_ID, orderPayload, seal, testConfig } from '../helpers/sandbox.js';

// The same flow over a real socket, with pactum, as a merchant's HTTP client sees it.
describe('create payment over HTTP (pactum)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(testConfig({ port: 0 }), { logger: false });
    pactum.request.setBaseUrl(server.url);
  });
  afterAll(() => server.close());

  it('creates a payment and finds it in the journal', async () => {
    const payload = orderPayload();
    await pactum
      .spec()
      .post('/api/v1/merchant-widget/payment')
      .withHeaders({ 'Auth-Identifier': APP_ID, 'Content-Type': 'text/plain' })
      .withBody(await seal(payload))
      .expectStatus(200)
      .expectJsonLike({
        success: true,
        payload: { transaction_hash: /^[0-9a-f]{40}$/, show_close_button: true },
      });
    await pactum
      .spec()
      .get('/__admin/journal')
      .withQueryParams({ order_id: payload.order.order_id })
      .expectStatus(200)
      .expectJsonLike({ entries: [{ decrypted: payload, verdict: { ok: true } }] });
  });

  it('answers garbage with 422 / 4220101 in the reference envelope', async () => {
    await pactum
      .spec()
      .post('/api/v1/merchant-widget/payment')
      .withHeaders({ 'Auth-Identifier': APP_ID })
      .withBody('%%%')
      .expectStatus(422)
      .expectJsonLike({
        success: false,
        error: { code: 4220101, message: 'Некорректный формат или содержимое данных.' },
      });
  });

  it('serves health', async () => {
    await pactum.spec().get('/__admin/health').expectStatus(200).expectJsonLike({ status: 'ok' });
  });
});
