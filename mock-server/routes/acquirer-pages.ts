import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import type { CardForm } from '../acquirer/bank-decision.js';
import { isOriginalSignedOrder } from '../acquirer/bank-documents.js';
import type { PayPipeline } from '../acquirer/pay-pipeline.js';
import { KtpayError } from '../envelope/ktpay-error.js';
import type { AcquirerSession, Transaction } from '../payments/transaction.js';
import type { SandboxContext } from '../sandbox-context.js';
import { acsPage, cardPage } from '../views/bank-pages.js';
import { API_PREFIX, isHash, originOf, paths } from '../views/links.js';
import { usePageErrors } from '../views/page-errors.js';

type Fields = Record<string, unknown>;

const V1_LANGUAGE = 'rus';
const V1_TEMPLATE = 'ktwidget_pay_kt.xsl';

const text = (v: unknown): string =>
  typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '';

/** Parses `multipart/form-data` with the platform's own parser (undici's `Response.formData()`). */
async function parseMultipart(contentType: string, body: Buffer): Promise<Fields> {
  const data = await new Response(new Uint8Array(body), {
    headers: { 'content-type': contentType },
  }).formData();
  const out: Fields = {};
  data.forEach((v, k) => {
    if (typeof v === 'string' && !(k in out)) out[k] = v;
  });
  return out;
}

/**
 * The emulated acquiring bank (spec §6, §8): the card page behind `payment_page`, the 3-D Secure
 * ACS page, and the legacy v1 form endpoint (`action`). Every page is a plain HTML form; each
 * result is reported through the bank's signed notice, then the shopper goes to the back link.
 */
export async function acquirerPages(
  app: FastifyInstance,
  opts: { ctx: SandboxContext; pipeline: PayPipeline },
) {
  const { ctx, pipeline } = opts;
  await app.register(formbody, { bodyLimit: ctx.config.body_limit });
  app.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'buffer', bodyLimit: ctx.config.body_limit },
    (request, body, done) => {
      parseMultipart(String(request.headers['content-type']), body as Buffer).then(
        (fields) => done(null, fields),
        (err: unknown) =>
          done(
            new KtpayError(ErrorCode.BAD_DATA_4220101, {
              diagnostic: `unreadable multipart form: ${String(err)}`,
            }),
          ),
      );
    },
  );
  usePageErrors(app);
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, surface: 'page' };
  });
  const data = pipeline.data;

  async function load(hash: unknown): Promise<Transaction> {
    const tx = isHash(hash) ? await ctx.store.getTransaction(hash) : undefined;
    if (!tx) {
      throw new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108, {
        diagnostic: isHash(hash)
          ? `no transaction ${hash} in this sandbox`
          : 'the bank page needs params=<transaction_hash>',
      });
    }
    return tx;
  }

  const initialSession = (request: FastifyRequest, hash: string): AcquirerSession => ({
    mode: 'v2',
    back_link: `${originOf(request, ctx.config)}${paths.backLink(hash)}`,
    framed: false,
    attempts: 0,
  });

  const summaryOf = async (tx: Transaction) => ({
    merchantName: (await ctx.store.getMerchant(tx.app_id))?.name ?? '',
    tx,
  });
  const closeOf = (tx: Transaction) =>
    tx.acquirer?.widget?.close_button ? { href: paths.close(tx.hash) } : undefined;
  const html = (reply: FastifyReply, body: string, status = 200) =>
    reply.code(status).type('text/html; charset=utf-8').send(body);

  /**
   * After a result the bank sends the shopper to the back link: the one the v1 form carried, or,
   * for v2, the sandbox's own back-link on the host and scheme of this request. The v2 link stored
   * in the session came from whichever request opened it (its Host header): it is not reused for
   * another request's redirect.
   */
  const toBackLink = (reply: FastifyReply, request: FastifyRequest, tx: Transaction) =>
    reply.redirect(
      tx.acquirer?.mode === 'v1' ? tx.acquirer.back_link : initialSession(request, tx.hash).back_link,
      303,
    );

  async function renderCard(
    reply: FastifyReply,
    tx: Transaction,
    extra: Partial<Parameters<typeof cardPage>[0]> = {},
    status = 200,
  ) {
    return html(
      reply,
      cardPage({
        ...(await summaryOf(tx)),
        errors: [],
        values: {
          pan: '',
          exp_month: '',
          exp_year: '',
          cardholder: '',
          email: tx.acquirer?.email ?? tx.user?.email ?? '',
        },
        close: closeOf(tx),
        cards: data.cards.cards,
        otp: data.cards.three_ds.otp,
        ...extra,
      }),
      status,
    );
  }

  // The v2 `payment_page`.
  app.get('/acquirer/payform', async (request, reply) => {
    const tx = await load((request.query as Fields).params);
    if (tx.status !== 'pending') return toBackLink(reply, request, tx);
    const opened = await pipeline.touchSession(tx.hash, initialSession(request, tx.hash));
    if (opened.acquirer?.challenge) return reply.redirect(paths.acs(tx.hash), 303);
    return renderCard(reply, opened);
  });

  app.post<{ Body: Fields | undefined }>('/acquirer/payform', async (request, reply) => {
    const body = request.body ?? {};
    const tx = await load(text(body.params));
    request.ktpay.transaction_hash = tx.hash;
    await pipeline.touchSession(tx.hash, initialSession(request, tx.hash));
    const form: CardForm = {
      pan: text(body.pan),
      exp_month: text(body.exp_month),
      exp_year: text(body.exp_year),
      cvc: text(body.cvc),
      cardholder: text(body.cardholder),
      email: text(body.email),
    };
    const step = await pipeline.submitCard(tx.hash, form, { framed: text(body.framed) === '1' });
    switch (step.kind) {
      case 'invalid':
        return renderCard(
          reply,
          step.tx,
          {
            errors: step.errors,
            values: {
              pan: form.pan,
              exp_month: form.exp_month,
              exp_year: form.exp_year,
              cardholder: form.cardholder,
              email: form.email,
            },
          },
          422,
        );
      case 'challenge':
        return reply.redirect(paths.acs(tx.hash), 303);
      default:
        return toBackLink(reply, request, step.tx);
    }
  });

  app.get('/acquirer/3ds', async (request, reply) => {
    const tx = await load((request.query as Fields).params);
    const challenge = tx.acquirer?.challenge;
    if (tx.status !== 'pending' || !challenge) return reply.redirect(paths.payform(tx.hash), 303);
    return html(
      reply,
      acsPage({
        ...(await summaryOf(tx)),
        card: challenge.card,
        close: closeOf(tx),
        otp: data.cards.three_ds.otp,
      }),
    );
  });

  app.post<{ Body: Fields | undefined }>('/acquirer/3ds', async (request, reply) => {
    const body = request.body ?? {};
    const tx = await load(text(body.params));
    request.ktpay.transaction_hash = tx.hash;
    const answer = text(body.action) === 'cancel' ? ({ cancel: true } as const) : { otp: text(body.otp) };
    const step = await pipeline.answerChallenge(tx.hash, answer);
    if (step.kind === 'no_challenge') return reply.redirect(paths.payform(tx.hash), 303);
    return toBackLink(reply, request, step.tx);
  });

  // The legacy v1 flow: the app POSTs the acquirer-options fields here [doc: multipart form; only
  // BackLink may differ from what acquirer-options returned].
  app.post<{ Body: Fields | undefined }>(paths.v1Action(), async (request, reply) => {
    const body = request.body ?? {};
    const postLink = text(body.PostLink).trim();
    const backLink = text(body.BackLink).trim();
    const hash = new RegExp(`${API_PREFIX}/payment/([0-9a-f]{40})/post-link$`).exec(postLink)?.[1];
    if (!hash) {
      throw new KtpayError(ErrorCode.BAD_DATA_4220101, {
        diagnostic: `PostLink must be the post_link acquirer-options returned (…${API_PREFIX}/payment/<hash>/post-link); got "${postLink.slice(0, 200)}"`,
      });
    }
    const tx = await load(hash);
    request.ktpay.transaction_hash = tx.hash;
    const merchant = await ctx.store.getMerchant(tx.app_id);
    const problems: string[] = [];
    // A form encoded by hand may turn "+" into a space; base64 has no spaces, so put them back.
    const signed = text(body.Signed_Order_B64).replace(/ /g, '+');
    if (!merchant || !isOriginalSignedOrder(signed, tx, merchant))
      problems.push('Signed_Order_B64 differs from signed_order');
    if (text(body.Language).trim() !== V1_LANGUAGE) problems.push(`Language must be "${V1_LANGUAGE}"`);
    if (text(body.template).trim() !== V1_TEMPLATE) problems.push(`template must be "${V1_TEMPLATE}"`);
    let validBack = false;
    try {
      validBack = /^https?:$/.test(new URL(backLink).protocol);
    } catch {
      validBack = false;
    }
    if (!validBack) problems.push('BackLink must be an http(s) URL');
    if (problems.length > 0) {
      throw new KtpayError(ErrorCode.BAD_DATA_4220101, {
        diagnostic: `the bank refused the v1 form: ${problems.join('; ')}. Only BackLink may be changed.`,
      });
    }
    if (tx.status !== 'pending') return reply.redirect(backLink, 303);
    const email = text(body.email).trim();
    await pipeline.openSession(tx.hash, {
      mode: 'v1',
      back_link: backLink,
      post_link: postLink,
      framed: false,
      attempts: tx.acquirer?.attempts ?? 0,
      ...(email ? { email } : {}),
      ...(tx.acquirer?.widget ? { widget: tx.acquirer.widget } : {}),
    });
    return reply.redirect(paths.payform(tx.hash), 303);
  });
}
