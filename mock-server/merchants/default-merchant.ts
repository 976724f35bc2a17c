/**
 * The built-in test merchant: a well-known keypair, like a public test API key. These values are
 * printed at startup and in the README; they are derived from fixed seeds
 * (sha256("ktpay-mock default merchant server key v1") and "... own key v1") with
 * crypto_box_seed_keypair, so anyone can reproduce them. Never use them outside a sandbox.
 */
export const DEFAULT_MERCHANT = {
  /** The app_id of the public documentation's examples. */
  app_id: 'e2d3d70d53c67bcd377266f74e98587c',
  merchant_id: 1,
  name: 'Тестовый магазин',
  /** The server keypair: `app_key` is the public half. */
  app_key: 'oy8UXMILwFoN7RoZ+pVNMTEjkVPkvwuQoolX9wjJGjs=',
  server_secret_key: 'IQytgr/VdGPDI1xr91q9QEtdhVd/YFY/E6vl3MQP+FI=',
  /** The merchant's own box keypair [doc: merchants register their public half]. */
  merchant_public_key: '0X/Tkqu9KnZDgKEJb7LUgoIFOrZgvk2Z4XPYoLvVC3Y=',
  merchant_secret_key: 'FXdI34095Fxy6QrSUR7LD7MiYEmrS7sVMvMiuQ5Iyg4=',
} as const;
