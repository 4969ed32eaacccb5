import { DateTime } from 'luxon';
import { nyDate } from '../../calendar/index.ts';
import { unavailable, type PointInTime } from './point-in-time.ts';
import { createYahooClient, finite, RATIO_MODULES, valuationRatios, type QuoteSummary } from './yahoo-client.ts';

/**
 * A quarter's statements count as published this long after the quarter ends (large filers' 10-Q and
 * 10-K deadlines are 40 and 60 days): the provider gives period ends, not filing dates, so we wait.
 */
export const FILING_LAG_DAYS = 60;
const QUARTERS_SHOWN = 4;

export interface CompanyProfile {
  name: string;
  sector: string | null;
  industry: string | null;
}

/** One quarter of the three statements; values in the reporting currency, null where not reported. */
export interface StatementQuarter {
  period_end: string;
  income: Record<string, number | null>;
  balance: Record<string, number | null>;
  cash_flow: Record<string, number | null>;
}

export interface FundamentalsReport {
  currency: string | null;
  quarters: StatementQuarter[];
  /** Valuation ratios as of today: only given to a cycle for today. */
  ratios: Record<string, number | string | null> | null;
}

export interface FundamentalsSource {
  readonly name: string;
  getProfile(ticker: string, opts: { signal?: AbortSignal }): Promise<CompanyProfile | null>;
  getFundamentals(ticker: string, opts: { date: string; signal?: AbortSignal }): Promise<PointInTime<FundamentalsReport>>;
}

const FIELDS = {
  income: ['totalRevenue', 'grossProfit', 'operatingIncome', 'netIncome', 'dilutedEPS'],
  balance: ['totalAssets', 'totalLiabilitiesNetMinorityInterest', 'stockholdersEquity', 'cashAndCashEquivalents', 'totalDebt'],
  cash_flow: ['operatingCashFlow', 'capitalExpenditure', 'freeCashFlow'],
} as const;

const toDate = (d: unknown): string | null => {
  const t = d instanceof Date ? d.getTime() : typeof d === 'number' ? (d < 1e12 ? d * 1000 : d) : typeof d === 'string' ? Date.parse(d) : NaN;
  return Number.isNaN(t) ? null : new Date(t).toISOString().slice(0, 10);
};

/**
 * Keyless fundamentals from Yahoo through `yahoo-finance2`: the company profile (quoteSummary
 * assetProfile + price), quarterly income statement, balance sheet and cash flow
 * (fundamentalsTimeSeries), and today's valuation ratios. A backdated cycle gets only quarters whose
 * statements were out by its date, and no ratios (Yahoo has only today's).
 */
export function createYahooFundamentalsSource(opts: { fetch?: typeof fetch; timeoutMs?: number; now?: () => Date } = {}): FundamentalsSource {
  const { yf, moduleOptions } = createYahooClient(opts);
  const now = () => opts.now?.() ?? new Date();
  const summary = async (ticker: string, modules: string[], signal?: AbortSignal) => {
    try {
      const s = (await yf.quoteSummary(ticker, { modules } as never, moduleOptions(signal))) as unknown;
      return s && typeof s === 'object' ? (s as QuoteSummary) : null;
    } catch (err) {
      if (signal?.aborted) throw err;
      return null;
    }
  };

  return {
    name: 'yahoo',
    async getProfile(ticker, { signal }) {
      const s = await summary(ticker, ['assetProfile', 'price'], signal);
      const name = s?.price?.longName ?? s?.price?.shortName;
      if (typeof name !== 'string' || !name) return null;
      const text = (v: unknown) => (typeof v === 'string' && v ? v : null);
      return { name, sector: text(s?.assetProfile?.sector), industry: text(s?.assetProfile?.industry) };
    },
    async getFundamentals(ticker, { date, signal }) {
      const published = DateTime.fromISO(date, { zone: 'utc' }).minus({ days: FILING_LAG_DAYS }).toISODate()!;
      let rows: Array<Record<string, unknown>>;
      try {
        // One request per statement: `all` makes a URL longer than many servers accept.
        const parts = await Promise.all(
          (['financials', 'balance-sheet', 'cash-flow'] as const).map(async (module) => {
            const r = (await yf.fundamentalsTimeSeries(
              ticker,
              { period1: DateTime.fromISO(date).minus({ days: 550 }).toISODate()!, period2: DateTime.fromISO(date).plus({ days: 1 }).toISODate()!, type: 'quarterly', module } as never,
              moduleOptions(signal),
            )) as unknown;
            if (!Array.isArray(r)) throw new Error(`unexpected answer for the ${module} statement`);
            return r as Array<Record<string, unknown>>;
          }),
        );
        const byEnd = new Map<string, Record<string, unknown>>();
        for (const row of parts.flat()) {
          const end = toDate(row.date);
          if (end) byEnd.set(end, { ...byEnd.get(end), ...row });
        }
        rows = [...byEnd.values()];
      } catch (err) {
        if (signal?.aborted) throw err;
        return unavailable('yahoo', date, `no financial statements (${String((err as Error).message).split('\n')[0]!.slice(0, 120)})`);
      }
      const quarters = rows
        .map((row) => ({ row, end: toDate(row.date) }))
        .filter((q): q is { row: Record<string, unknown>; end: string } => q.end !== null && q.end <= published)
        .sort((a, b) => b.end.localeCompare(a.end))
        .slice(0, QUARTERS_SHOWN)
        .map(({ row, end }): StatementQuarter => {
          const pick = (keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, finite(row[k]) ? row[k] : null]));
          return { period_end: end, income: pick(FIELDS.income), balance: pick(FIELDS.balance), cash_flow: pick(FIELDS.cash_flow) };
        })
        .filter((q) => [q.income, q.balance, q.cash_flow].some((part) => Object.values(part).some((v) => v !== null)));
      const today = date === nyDate(now());
      let ratios: FundamentalsReport['ratios'] = null;
      if (today) {
        const s = await summary(ticker, RATIO_MODULES, signal);
        if (s) ratios = valuationRatios(s);
      }
      if (quarters.length === 0 && !ratios) {
        return unavailable('yahoo', date, rows.length ? `no quarter's statements were published by ${date} (a quarter counts ${FILING_LAG_DAYS} days after its end)` : 'the provider has no financial statements for this symbol');
      }
      return {
        available: true,
        source: 'yahoo',
        as_of: date,
        data: { currency: null, quarters, ratios },
        ...(today ? {} : { note: `valuation ratios are today's only: left out for ${date}` }),
      };
    },
  };
}
