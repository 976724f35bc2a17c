import { errorCatalog, readContractData } from '../../contracts/error-catalog.js';
import type { ErrorType } from '../payments/transaction.js';

export type ThreeDsMode = 'frictionless' | 'challenge';

export interface TestCard {
  pan: string;
  display: string;
  brand: 'visa' | 'mastercard' | 'amex' | 'unknown';
  code: string;
  three_ds: ThreeDsMode;
  result: string;
}

/** `contracts/data/test-cards.json`. */
export interface TestCardTable {
  about: string;
  cards: TestCard[];
  other_cards: { code: string; three_ds: ThreeDsMode; result: string };
  cardholder_code_rule: { pattern: string; example: string; result: string };
  three_ds: { otp: string; failure_code: string };
  input_errors: { luhn: string; expired: string; card_data: string; unavailable: string };
}

export interface CodeOutcome {
  status: 'error' | 'denied';
  error_type: ErrorType;
  family: string;
}

/** `contracts/data/acquirer-outcomes.json`. */
export interface AcquirerOutcomeTable {
  about: string;
  approved_code: string;
  families: Record<string, string>;
  codes: Record<string, CodeOutcome>;
  service_gateway_refusal: {
    status: 'error' | 'denied';
    error_type: ErrorType;
    error_message: string;
    contract_value: string;
  };
}

/**
 * Everything the emulated bank decides from: the test cards, the code → outcome mapping and the
 * catalog's acquirer messages. Plain data, so a scenario can hand the decision a modified copy.
 */
export interface AcquirerData {
  cards: TestCardTable;
  outcomes: AcquirerOutcomeTable;
  /** Acquirer code → the catalog text (the first group that lists the code). */
  messages: ReadonlyMap<string, string>;
}

/**
 * Reads the data files once per call; the sandbox context holds the result.
 *
 * @example
 * const data = loadAcquirerData();
 * data.messages.get('51'); // 'Недостаточно средств на карте.'
 */
export function loadAcquirerData(): AcquirerData {
  const messages = new Map<string, string>();
  for (const group of errorCatalog.acquirer) {
    for (const code of group.codes) if (!messages.has(code)) messages.set(code, group.message);
  }
  return {
    cards: readContractData<TestCardTable>('test-cards.json'),
    outcomes: readContractData<AcquirerOutcomeTable>('acquirer-outcomes.json'),
    messages,
  };
}

/** Every acquirer code the catalog documents, in catalog order, without repeats. */
export function catalogAcquirerCodes(): string[] {
  const seen = new Set<string>();
  for (const group of errorCatalog.acquirer) for (const c of group.codes) seen.add(c);
  return [...seen];
}
