import type { Merchant } from './merchants/merchant.js';

/** Per-request notes the routes leave for the error handler and the journal. */
export interface RequestState {
  merchant?: Merchant;
  app_id?: string | null;
  order_id?: string | null;
  transaction_hash?: string | null;
  decrypted?: unknown;
  warnings: string[];
  error_code?: number | null;
  explanation?: string | null;
  scenario?: string | null;
  raw_body_size: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    ktpay: RequestState;
  }
  interface FastifyContextConfig {
    /** Record this route's requests in the journal. */
    journal?: boolean;
    /** Which error dialect an anonymous failure on this route uses: the merchant API's or the admin's. */
    surface?: 'api' | 'admin' | 'page';
  }
}
