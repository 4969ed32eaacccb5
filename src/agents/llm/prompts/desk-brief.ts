import type { CompanyProfile } from '../../data/fundamentals-source.ts';

/** What every prompt of a cycle knows about the company and the date. */
export interface DeskFacts {
  ticker: string;
  date: string;
  company: CompanyProfile | null;
  dataSource: string;
}

/** The agent's paper account as the trader and the portfolio manager see it. */
export interface DeskPosition {
  shares: number;
  avg_price: number | null;
  market_value: number;
  unrealized_pnl: number;
  cash: number;
  equity: number;
  target_percent: number;
}

export function companyLine(f: DeskFacts): string {
  const c = f.company;
  if (!c) return `${f.ticker} (company name, sector and industry unavailable)`;
  return `${c.name} (${f.ticker}), sector ${c.sector ?? 'unknown'}, industry ${c.industry ?? 'unknown'}`;
}

/**
 * The opening every system prompt shares: who is speaking, about which company, for which date, and
 * the rules of evidence. The role's own brief follows it.
 */
export function deskSystem(role: string, f: DeskFacts, brief: string): string {
  return [
    `You are the ${role} of a trading desk. Company: ${companyLine(f)}. Analysis date: ${f.date}; everything you are given was known by that day's close in New York, and nothing later exists for you.`,
    brief,
    'Use only the evidence given. When something is missing or marked unavailable, say so; never fill the gap with what you remember.',
  ].join('\n\n');
}

const money = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** `not-live`: a backdated or replayed cycle, whose account position as of its date is not known here. */
export function positionText(ticker: string, p: DeskPosition | 'not-live' | null): string {
  if (p === 'not-live') return `Paper account: not shown. This cycle is for a past session (a backdated run or a replay), and the live account's position today says nothing about that date; judge ${ticker} on the evidence alone. Long only: a BUY means hold up to the target share of equity, a SELL means hold none, HOLD means change nothing.`;
  if (!p) return `Paper account: no account yet (the first fill opens it). Long only; a BUY holds up to the target share of equity, a SELL closes the whole ${ticker} position.`;
  const holding =
    p.shares > 0
      ? `${p.shares} shares of ${ticker} at an average cost of ${money(p.avg_price ?? 0)} (market value ${money(p.market_value)}, unrealized P&L ${money(p.unrealized_pnl)})`
      : `no ${ticker} shares`;
  return `Paper account: ${holding}; cash ${money(p.cash)} of equity ${money(p.equity)}. Long only: a BUY holds up to ${Math.round(p.target_percent * 100)} % of equity in ${ticker} (nothing more when already there), a SELL closes the whole position, HOLD changes nothing.`;
}

/** The analysts' reports as the researchers and risk analysts read them. */
export function analystBrief(reports: Record<'market' | 'fundamentals' | 'news' | 'sentiment', string>): string {
  return (['market', 'fundamentals', 'news', 'sentiment'] as const).map((k) => `## ${k} analyst\n${reports[k]}`).join('\n\n');
}
