import type { ReplayReport } from './replay-report.ts';

/** The CSV download's columns, one row per cycle of every profile, in session order. */
export const CSV_COLUMNS = [
  'replay_id',
  'profile',
  'date',
  'as_of',
  'price_date',
  'ticker',
  'status',
  'decision',
  'confidence',
  'price',
  'fill_side',
  'fill_quantity',
  'fill_price',
  'fill_fees',
  'cash_after',
  'equity_after',
  'return_1d',
  'return_5d',
  'cost_usd',
  'cost_unknown',
  'tokens',
  'cycle_ms',
  'data_source',
  'job_id',
  'error',
] as const;

/** RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled. */
function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function reportCsv(report: ReplayReport): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const p of report.profiles) {
    for (const r of p.rows) {
      const row: Record<(typeof CSV_COLUMNS)[number], unknown> = {
        replay_id: report.replay_id,
        profile: p.profile,
        date: r.date,
        as_of: r.as_of,
        price_date: r.price_date,
        ticker: r.ticker,
        status: r.status,
        decision: r.decision,
        confidence: r.confidence,
        price: r.price,
        fill_side: r.fill?.side,
        fill_quantity: r.fill?.quantity,
        fill_price: r.fill?.price,
        fill_fees: r.fill?.fees,
        cash_after: r.fill?.cash_after,
        equity_after: r.equity_after,
        return_1d: r.return_1d,
        return_5d: r.return_5d,
        cost_usd: r.cost_usd,
        cost_unknown: r.cost_unknown,
        tokens: r.tokens,
        cycle_ms: r.cycle_ms,
        data_source: r.data_source,
        job_id: r.job_id,
        error: r.error,
      };
      lines.push(CSV_COLUMNS.map((c) => cell(row[c])).join(','));
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}
