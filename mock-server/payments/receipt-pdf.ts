import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as PdfLibModule from 'pdf-lib';
import type { PDFDocument, PDFFont, PDFPage } from 'pdf-lib';
import { ErrorCode } from '../../contracts/error-catalog.js';
import { KtpayError } from '../envelope/ktpay-error.js';
import type { Merchant } from '../merchants/merchant.js';
import { toAlmatyCompact, toAlmatyIso } from '../shared/almaty-time.js';
import { refundedTotal, type PaymentStatus, type Transaction } from './transaction.js';

/** Statuses a receipt exists for: the money was taken (spec §7; otherwise 4090113). */
export const RECEIPT_STATUSES: ReadonlySet<PaymentStatus> = new Set([
  'success',
  'completed',
  'partially_refunded',
  'refunded',
]);

const STATUS_LABELS: Record<PaymentStatus, string> = {
  pending: 'Ожидает оплаты',
  authorized: 'Средства заблокированы',
  success: 'Оплачено',
  completed: 'Оплачено (клиринг проведён)',
  error: 'Ошибка',
  denied: 'Отклонено',
  cancelled: 'Отменено',
  partially_refunded: 'Частичный возврат',
  refunded: 'Возвращено',
};

/** `payment<id>-<YYYYMMDDHHmmss>.pdf`, the documented receipt file name (spec §7), in Almaty time. */
export function receiptFileName(tx: Pick<Transaction, 'id'>, at: number): string {
  return `payment${tx.id}-${toAlmatyCompact(at)}.pdf`;
}

/** The exact response headers of the documented receipt endpoint (spec §7). */
export function receiptHeaders(fileName: string): Record<string, string> {
  return {
    'content-type': 'application/pdf',
    'content-disposition': `attachment; filename="${fileName}"; filename*=UTF-8''${fileName}`,
    'cache-control': 'must-revalidate, post-check=0, pre-check=0, private',
    pragma: 'public',
    expires: '0',
  };
}

/** `1000.00 ₸`: two decimals, no grouping, so the order's number reads the same in the PDF text. */
export function formatTenge(amount: number): string {
  return `${amount.toFixed(2)} ₸`;
}

/** `05.02.2019 14:22:53 (UTC+06:00)` from an instant, in Almaty time. */
function formatAlmaty(ms: number): string {
  const iso = toAlmatyIso(ms);
  return `${iso.slice(8, 10)}.${iso.slice(5, 7)}.${iso.slice(0, 4)} ${iso.slice(11, 19)} (UTC+06:00)`;
}

/** When the payment went through: the first time it reached `success`. */
function paidAt(tx: Transaction): number {
  return tx.history.find((h) => h.status === 'success')?.at ?? tx.status_created_at;
}

export interface ReceiptInput {
  tx: Transaction;
  merchant: Pick<Merchant, 'name' | 'merchant_id'>;
  /** When the receipt is generated (the injected clock). */
  at: number;
}

export interface ReceiptRenderer {
  /** A PDF (bytes) for a paid transaction. Throws 5000110 when the font cannot be loaded, 5000109 when rendering fails. */
  render(input: ReceiptInput): Promise<Uint8Array>;
}

/** The DejaVu Sans file from the `dejavu-fonts-ttf` package: it covers Cyrillic, Kazakh letters and ₸. */
export function defaultFontPath(): string {
  return createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
}

const PAGE_SIZE: [number, number] = [420, 595]; // A5 portrait, in points

type PdfLib = typeof PdfLibModule;
type Fontkit = Parameters<PDFDocument['registerFontkit']>[0];

/**
 * pdf-lib and fontkit take ~270 ms of a ~1 s startup to import, and only a receipt needs them,
 * so they are imported with the first receipt (issue 10's startup target).
 */
async function importPdfLibs(): Promise<{ pdf: PdfLib; fontkit: Fontkit }> {
  const [pdfNs, fk] = await Promise.all([import('pdf-lib'), import('@pdf-lib/fontkit')]);
  // Both packages are CommonJS. Node's loader gives named exports (pdf-lib) and module.exports as
  // `default`; the bundled CLI's chunks give module.exports only as `default`.
  const pdf = (pdfNs as Partial<PdfLib>).PDFDocument
    ? pdfNs
    : (pdfNs as unknown as { default: PdfLib }).default;
  const fontkit = (fk as unknown as { default: Fontkit }).default;
  return { pdf, fontkit };
}

/**
 * Draws label/value rows top to bottom, wrapping long values to the column width and starting a
 * new page when one is full (a long description or many refunds).
 */
function createLayout(doc: PDFDocument, font: PDFFont, rgb: PdfLib['rgb']) {
  const margin = 36;
  const labelWidth = 118;
  const valueX = margin + labelWidth;
  const [pageWidth, pageHeight] = PAGE_SIZE;
  const valueWidth = pageWidth - valueX - margin;
  let page: PDFPage = doc.addPage(PAGE_SIZE);
  let y = pageHeight - margin;

  /** Makes room for a line `height` tall, on a new page if this one is full. */
  function room(height: number) {
    if (y - height >= margin) return;
    page = doc.addPage(PAGE_SIZE);
    y = pageHeight - margin;
  }

  /** Width of one character at `size`, cached: a long word is cut in one pass over its characters. */
  const charWidths = new Map<string, number>();
  function charWidth(ch: string, size: number): number {
    const key = `${size}|${ch}`;
    let w = charWidths.get(key);
    if (w === undefined) {
      w = font.widthOfTextAtSize(ch, size);
      charWidths.set(key, w);
    }
    return w;
  }

  /**
   * A word wider than the column (a hash, a URL, a description without spaces) cut into pieces
   * that fit, by characters (code points, so a surrogate pair stays whole). Linear in the word: it
   * used to re-measure every shorter prefix, and a 1,024-character description took 34 s of CPU.
   */
  function cutWord(word: string, size: number, width: number): string[] {
    const pieces: string[] = [];
    let piece = '';
    let used = 0;
    for (const ch of word) {
      const w = charWidth(ch, size);
      if (piece && used + w > width) {
        pieces.push(piece);
        piece = '';
        used = 0;
      }
      piece += ch;
      used += w;
    }
    pieces.push(piece);
    return pieces;
  }

  function wrap(text: string, size: number, width: number): string[] {
    const lines: string[] = [];
    for (const paragraph of text.split(/\r?\n/)) {
      let line = '';
      for (const word of paragraph.split(/\s+/).filter(Boolean)) {
        const candidate = line ? `${line} ${word}` : word;
        if (font.widthOfTextAtSize(candidate, size) <= width) {
          line = candidate;
          continue;
        }
        if (line) lines.push(line);
        line = word;
        if (font.widthOfTextAtSize(word, size) > width) {
          const pieces = cutWord(word, size, width);
          line = pieces.pop()!;
          lines.push(...pieces);
        }
      }
      lines.push(line);
    }
    return lines;
  }

  return {
    heading(text: string, size: number) {
      room(size + 10);
      page.drawText(text, { x: margin, y: y - size, size, font, color: rgb(0.1, 0.1, 0.1) });
      y -= size + 10;
    },
    note(text: string, size = 8) {
      for (const line of wrap(text, size, pageWidth - 2 * margin)) {
        room(size + 3);
        page.drawText(line, { x: margin, y: y - size, size, font, color: rgb(0.4, 0.4, 0.4) });
        y -= size + 3;
      }
      y -= 4;
    },
    rule() {
      room(10);
      page.drawLine({
        start: { x: margin, y: y - 2 },
        end: { x: pageWidth - margin, y: y - 2 },
        thickness: 0.5,
        color: rgb(0.75, 0.75, 0.75),
      });
      y -= 10;
    },
    row(label: string, value: string, size = 10) {
      room(size + 4);
      page.drawText(label, { x: margin, y: y - size, size: size - 1, font, color: rgb(0.4, 0.4, 0.4) });
      for (const line of wrap(value, size, valueWidth)) {
        room(size + 4);
        page.drawText(line, { x: valueX, y: y - size, size, font, color: rgb(0.05, 0.05, 0.05) });
        y -= size + 4;
      }
      y -= 4;
    },
  };
}

/**
 * Builds receipt PDFs with pdf-lib, embedding a subset of DejaVu Sans so Cyrillic text renders and
 * can be extracted (`pdftotext`). The font is read once, on the first receipt, per renderer.
 *
 * @example
 * const receipts = createReceiptRenderer();
 * const pdf = await receipts.render({ tx, merchant, at: clock.now() });
 */
export function createReceiptRenderer(opts: { fontPath?: string } = {}): ReceiptRenderer {
  let fontBytes: Promise<Uint8Array> | undefined;
  let libs: Promise<{ pdf: PdfLib; fontkit: Fontkit }> | undefined;

  function loadLibs(): Promise<{ pdf: PdfLib; fontkit: Fontkit }> {
    libs ??= importPdfLibs();
    return libs.catch((err: unknown) => {
      libs = undefined;
      throw new KtpayError(ErrorCode.RECEIPT_MODULE_FAILED_5000110, {
        diagnostic: `the PDF library could not be loaded: ${(err as Error).message}`,
      });
    });
  }

  function loadFont(fontkit: Fontkit): Promise<Uint8Array> {
    fontBytes ??= (async () => {
      const path = opts.fontPath ?? defaultFontPath();
      const bytes = await readFile(path);
      // Parse it once here, so a broken font file is reported as a module failure, not per receipt.
      fontkit.create(bytes);
      return bytes;
    })();
    return fontBytes.catch((err: unknown) => {
      fontBytes = undefined; // a later request may succeed once the file is fixed
      throw new KtpayError(ErrorCode.RECEIPT_MODULE_FAILED_5000110, {
        diagnostic: `the receipt font could not be loaded: ${(err as Error).message}`,
      });
    });
  }

  return {
    async render({ tx, merchant, at }) {
      const { pdf, fontkit } = await loadLibs();
      const font = await loadFont(fontkit);
      try {
        const doc = await pdf.PDFDocument.create();
        doc.registerFontkit(fontkit);
        const embedded = await doc.embedFont(font, { subset: true });
        const title = `Чек по операции №${tx.id}`;
        doc.setTitle(title);
        doc.setAuthor(merchant.name);
        doc.setSubject(`Заказ ${tx.order_id}`);
        doc.setCreator('ktpay-mock sandbox');
        doc.setProducer('ktpay-mock (pdf-lib)');
        doc.setCreationDate(new Date(at));
        doc.setModificationDate(new Date(at));

        const layout = createLayout(doc, embedded, pdf.rgb);
        layout.heading(title, 16);
        layout.note('ktpay-mock: тестовая среда, не является фискальным документом.');
        layout.rule();
        layout.row('Мерчант', `${merchant.name} (ID ${merchant.merchant_id})`);
        layout.row('Заказ', tx.order_id);
        if (tx.description) layout.row('Описание', tx.description);
        if (tx.type === 'service' && tx.service) {
          layout.row('Услуга', `${tx.service.service_id}, лицевой счёт ${tx.service.contract_value}`);
        }
        layout.row('Сумма', formatTenge(tx.amount), 13);
        layout.row('Валюта', 'KZT (398)');
        const refunded = refundedTotal(tx);
        if (refunded > 0) layout.row('Возвращено', formatTenge(refunded));
        layout.row('Карта', tx.card ? `${tx.card.masked}${tx.card.brand ? ` (${tx.card.brand})` : ''}` : '—');
        layout.row('Статус', `${STATUS_LABELS[tx.status]} (${tx.status})`);
        layout.row('Дата оплаты', formatAlmaty(paidAt(tx)));
        for (const r of tx.refunds) {
          layout.row(
            'Возврат',
            `${formatTenge(r.amount)}, ${formatAlmaty(r.at)}${r.reason ? `, ${r.reason}` : ''}`,
            9,
          );
        }
        layout.rule();
        layout.row('Транзакция', tx.hash, 9);
        layout.note(`Чек сформирован ${formatAlmaty(at)}.`);
        return await doc.save();
      } catch (err) {
        throw new KtpayError(ErrorCode.RECEIPT_FAILED_5000109, {
          diagnostic: `the receipt for transaction ${tx.hash} could not be rendered: ${(err as Error).message}`,
        });
      }
    },
  };
}
