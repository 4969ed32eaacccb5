import type { Decision, PaperFill } from '../core/index.ts';

export interface LedgerSettings {
  starting_cash: number;
  target_percent: number;
  commission_per_trade: number;
  slippage_bps: number;
}

export interface LedgerFill extends PaperFill {
  ticker: string;
  date: string;
  as_of: string | null;
  realized_pnl: number;
}

interface Position {
  quantity: number;
  cost_cents: number;
}

/**
 * A replay's paper account for one profile, with the live paper ledger's rules (the same as
 * paper-fill-script.ts): integer cents, integer shares, long only; BUY tops the position up to
 * `target_percent` of equity at the price plus slippage and pays the commission, SELL exits at the
 * price minus slippage, HOLD only marks. Decisions are applied in session order, whatever order the
 * cycles finished in, so the curve is the one a desk would have had.
 */
export class ReplayLedger {
  private cash: number;
  private readonly start: number;
  private realized = 0;
  private readonly positions = new Map<string, Position>();
  private readonly prices = new Map<string, number>();

  constructor(private readonly s: LedgerSettings) {
    this.cash = Math.round(s.starting_cash * 100);
    this.start = this.cash;
  }

  /** Equity in cents at the last prices seen (a position never priced counts at cost). */
  equityCents(): number {
    let total = this.cash;
    for (const [ticker, p] of this.positions) {
      const price = this.prices.get(ticker);
      total += price === undefined ? p.cost_cents : Math.round(p.quantity * price * 100);
    }
    return total;
  }

  equity(): number {
    return this.equityCents() / 100;
  }

  cashDollars(): number {
    return this.cash / 100;
  }

  realizedPnl(): number {
    return this.realized / 100;
  }

  startingCash(): number {
    return this.start / 100;
  }

  positionsView(): Array<{ ticker: string; quantity: number; cost: number; last_price: number | null }> {
    return [...this.positions].map(([ticker, p]) => ({ ticker, quantity: p.quantity, cost: p.cost_cents / 100, last_price: this.prices.get(ticker) ?? null })).sort((a, b) => a.ticker.localeCompare(b.ticker));
  }

  /** Applies one decision at `price`; returns the fill, or null when nothing traded. */
  apply(d: { ticker: string; date: string; as_of: string | null; decision: Decision; price: number }): LedgerFill | null {
    if (!Number.isFinite(d.price) || d.price <= 0) return null;
    this.prices.set(d.ticker, d.price);
    const buyFill = Math.round(d.price * (1 + this.s.slippage_bps / 10_000) * 100);
    const sellFill = Math.round(d.price * (1 - this.s.slippage_bps / 10_000) * 100);
    const fee = Math.round(this.s.commission_per_trade * 100);
    const pos = this.positions.get(d.ticker) ?? { quantity: 0, cost_cents: 0 };
    const base = { ticker: d.ticker, date: d.date, as_of: d.as_of };
    if (d.decision === 'BUY') {
      const wanted = Math.floor((this.equityCents() * this.s.target_percent) / buyFill) - pos.quantity;
      const affordable = Math.floor((this.cash - fee) / buyFill);
      const quantity = Math.min(wanted, affordable);
      if (quantity <= 0) return null;
      const cost = quantity * buyFill + fee;
      this.cash -= cost;
      this.positions.set(d.ticker, { quantity: pos.quantity + quantity, cost_cents: pos.cost_cents + cost });
      return { ...base, side: 'BUY', quantity, price: buyFill / 100, fees: fee / 100, cash_after: this.cash / 100, realized_pnl: 0 };
    }
    if (d.decision === 'SELL' && pos.quantity > 0) {
      const proceeds = pos.quantity * sellFill - fee;
      const realized = proceeds - pos.cost_cents;
      this.cash += proceeds;
      this.realized += realized;
      this.positions.delete(d.ticker);
      return { ...base, side: 'SELL', quantity: pos.quantity, price: sellFill / 100, fees: fee / 100, cash_after: this.cash / 100, realized_pnl: realized / 100 };
    }
    return null;
  }
}

/**
 * Buy-and-hold of the same tickers: the starting cash split equally, each share bought (with the same
 * slippage and commission) at the first price the replay saw for its ticker, then only marked.
 */
export class BuyAndHold {
  private cash: number;
  private readonly shares = new Map<string, number>();
  private readonly prices = new Map<string, number>();
  private readonly slice: number;

  constructor(
    private readonly s: LedgerSettings,
    tickers: string[],
  ) {
    this.cash = Math.round(s.starting_cash * 100);
    this.slice = Math.floor(this.cash / Math.max(1, tickers.length));
  }

  mark(ticker: string, price: number): void {
    if (!Number.isFinite(price) || price <= 0) return;
    this.prices.set(ticker, price);
    if (this.shares.has(ticker)) return;
    const buyFill = Math.round(price * (1 + this.s.slippage_bps / 10_000) * 100);
    const fee = Math.round(this.s.commission_per_trade * 100);
    const quantity = Math.max(0, Math.floor((this.slice - fee) / buyFill));
    this.shares.set(ticker, quantity);
    if (quantity > 0) this.cash -= quantity * buyFill + fee;
  }

  equity(): number {
    let total = this.cash;
    for (const [ticker, q] of this.shares) total += Math.round(q * this.prices.get(ticker)! * 100);
    return total / 100;
  }
}
