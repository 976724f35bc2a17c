/** One recorded API request (issue 2 §6). Bodies are kept by size, not copied, except the payload. */
export interface JournalEntry {
  id: number;
  at: number;
  app_id: string | null;
  order_id: string | null;
  transaction_hash: string | null;
  method: string;
  path: string;
  headers: Record<string, string>;
  raw_body_size: number;
  /** The decrypted JSON, when the sealed box opened. */
  decrypted: unknown;
  verdict: {
    ok: boolean;
    error_code: number | null;
    /** The plain-words explanation of a failure (the part of the `hint` after "Sandbox:"). */
    explanation: string | null;
    contract_warnings: string[];
    scenario: string | null;
  };
  response: { status: number; body: unknown };
  duration_ms: number;
}

export interface JournalFilter {
  app_id?: string;
  order_id?: string;
  transaction_hash?: string;
  since?: number;
  limit?: number;
}
