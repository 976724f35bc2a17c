import { toAlmatyIso } from '../shared/almaty-time.js';

// Made on first use: building a ru-RU NumberFormat loads ICU locale data (~20 ms of startup, issue 10).
let amountFormat: Intl.NumberFormat | undefined;

/**
 * An amount in tenge as the pages show it.
 *
 * @example
 * formatAmount(1500.5); // '1 500,5 ₸' (with a narrow no-break space)
 */
export function formatAmount(amount: number): string {
  amountFormat ??= new Intl.NumberFormat('ru-RU', { minimumFractionDigits: 0, maximumFractionDigits: 2 });
  return `${amountFormat.format(amount)}\u00a0₸`;
}

/** `15.01.2026 14:00:03` (Almaty time). */
export function formatAlmaty(ms: number): string {
  const iso = toAlmatyIso(ms);
  return `${iso.slice(8, 10)}.${iso.slice(5, 7)}.${iso.slice(0, 4)} ${iso.slice(11, 19)}`;
}

export const STATUS_LABELS: Record<string, string> = {
  pending: 'Ожидает оплаты',
  authorized: 'Авторизован',
  success: 'Оплачен',
  completed: 'Оплачен',
  error: 'Ошибка оплаты',
  denied: 'Отклонён',
  cancelled: 'Отменён',
  partially_refunded: 'Частичный возврат',
  refunded: 'Возвращён',
};
