import type { FundamentalsReport } from '../../data/fundamentals-source.ts';
import { deskSystem, type DeskFacts } from './desk-brief.ts';

export function fundamentalsAnalystSystem(f: DeskFacts): string {
  return deskSystem(
    'fundamentals analyst',
    f,
    'You read the financial statements. Judge growth (revenue, earnings, quarter over quarter), profitability (gross and operating margins), balance-sheet strength (cash, debt, equity) and cash generation (operating and free cash flow). Close with what the numbers say about the business and the valuation where ratios are given.',
  );
}

const big = (v: number | null) => (v === null ? 'n/a' : Math.abs(v) >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : String(Number(v.toFixed(4))));

export function fundamentalsAnalystUser(r: FundamentalsReport, note?: string): string {
  const quarters = r.quarters
    .map((q) => {
      const part = (name: string, values: Record<string, number | null>) => `  ${name}: ${Object.entries(values).map(([k, v]) => `${k} ${big(v)}`).join(', ')}`;
      return [`Quarter ending ${q.period_end}:`, part('income statement', q.income), part('balance sheet', q.balance), part('cash flow', q.cash_flow)].join('\n');
    })
    .join('\n');
  const ratios = r.ratios ? `Valuation ratios (today): ${Object.entries(r.ratios).map(([k, v]) => `${k} ${v ?? 'n/a'}`).join(', ')}` : 'Valuation ratios: unavailable for this date.';
  return `Write the fundamentals report from these statements (newest quarter first; amounts in the reporting currency).\n${quarters || 'No quarterly statements.'}\n${ratios}${note ? `\nNote: ${note}.` : ''}`;
}
