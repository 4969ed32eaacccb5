import type { Redis } from 'ioredis';
import { productKeys, type Decision, type PaperFill } from '../../core/index.ts';
import { runScript } from '../redis-script.ts';
import { PAPER_FILL_SCRIPT } from './paper-fill-script.ts';

export interface PortfolioSettings {
  starting_cash: number;
  target_percent: number;
  commission_per_trade: number;
  slippage_bps: number;
}

/** A stored position: integer shares and what they cost, fees included, in cents. */
interface StoredPosition {
  quantity: number;
  cost_cents?: number;
  /** Positions written by earlier versions. */
  avg_price?: number;
}

export interface Trade {
  job_id: string;
  at: string;
  ticker: string;
  side: 'BUY' | 'SELL';
  quantity: number;
  price: number;
  fees: number;
  realized_pnl: number;
  cash_after: number;
}

export interface PositionView {
  ticker: string;
  quantity: number;
  /** Cost per share, fees included. */
  avg_price: number;
  last_price: number;
  market_value: number;
  unrealized_pnl: number;
}

export interface PortfolioView {
  agent: string;
  starting_cash: number;
  cash: number;
  equity: number;
  positions: PositionView[];
  realized_pnl: number;
  unrealized_pnl: number;
  /** equity − starting cash; equals realized + unrealized to the cent. */
  total_pnl: number;
  /** Newest first. */
  trades: Trade[];
  equity_curve: Array<{ t: string; equity: number }>;
}

const cents = (n: number) => Math.round(n * 100);
const dollars = (c: number) => Math.round(c) / 100;
/** A fill marker outlives any retry or stalled-job recovery of its job. */
const MARKER_TTL_S = 14 * 24 * 3600;
const MAX_CURVE = 5_000;

function ledgerKeys(prefix: string, agent: string) {
  const k = productKeys(prefix);
  return {
    agents: k.custom('portfolio', 'agents'),
    account: k.custom('portfolio', agent, 'account'),
    positions: k.custom('portfolio', agent, 'positions'),
    prices: k.custom('portfolio', agent, 'prices'),
    trades: k.custom('portfolio', agent, 'trades'),
    curve: k.custom('portfolio', agent, 'equity'),
    applied: (jobId: string) => k.custom('portfolio', agent, 'applied', jobId),
  };
}

const costCents = (p: StoredPosition) => p.cost_cents ?? cents(p.quantity * (p.avg_price ?? 0));

/**
 * Applies a cycle's decision to the agent's paper account at `price` (the latest price the cycle saw):
 * buys fill `slippage_bps` above it and sells below it, each paying `commission_per_trade`. At most once
 * per job id: a retried or recovered cycle gets the original fill back (see paper-fill-script.ts).
 * BUY → hold `target_percent` of equity in the ticker (no-op when already there); SELL → exit the
 * position; HOLD → mark to market only. Every call adds a point to the equity curve.
 */
export async function applyDecision(
  redis: Redis,
  prefix: string,
  args: { agent: string; jobId: string; ticker: string; decision: Decision; price: number; settings: PortfolioSettings; at: Date },
): Promise<PaperFill | null> {
  if (!Number.isFinite(args.price) || args.price <= 0) throw new Error(`cannot fill ${args.ticker} at price ${args.price}`);
  const s = args.settings;
  const k = ledgerKeys(prefix, args.agent);
  const raw = await runScript(
    redis,
    PAPER_FILL_SCRIPT,
    [k.applied(args.jobId), k.account, k.positions, k.prices, k.trades, k.curve, k.agents],
    [
      args.agent,
      args.ticker,
      args.decision,
      String(args.price),
      Math.round(args.price * (1 + s.slippage_bps / 10_000) * 100),
      Math.round(args.price * (1 - s.slippage_bps / 10_000) * 100),
      cents(s.commission_per_trade),
      s.target_percent,
      cents(s.starting_cash),
      args.at.toISOString(),
      args.jobId,
      MARKER_TTL_S,
      MAX_CURVE,
    ],
  );
  return JSON.parse(String(raw)) as PaperFill | null;
}

export async function listPortfolioAgents(redis: Redis, prefix: string): Promise<string[]> {
  return (await redis.smembers(ledgerKeys(prefix, '_').agents)).sort();
}

/**
 * The agent's paper account, valued at `markPrices` where given (e.g. live quotes) and otherwise at the
 * last price its cycles saw for each ticker. Null when the agent has never had a cycle.
 */
export async function getPortfolio(
  redis: Redis,
  prefix: string,
  agent: string,
  opts: { trades?: number; curve?: number; markPrices?: Record<string, number> } = {},
): Promise<PortfolioView | null> {
  const k = ledgerKeys(prefix, agent);
  const [account, positionsRaw, pricesRaw, tradesRaw, curveRaw] = await Promise.all([
    redis.hgetall(k.account),
    redis.hgetall(k.positions),
    redis.hgetall(k.prices),
    redis.lrange(k.trades, -(opts.trades ?? 200), -1),
    redis.lrange(k.curve, -(opts.curve ?? 1000), -1),
  ]);
  if (account.cash_cents === undefined) return null;
  const cashC = Number(account.cash_cents);
  const startC = account.starting_cash_cents !== undefined ? Number(account.starting_cash_cents) : cents(Number(account.starting_cash));
  const realizedC = account.realized_cents !== undefined ? Number(account.realized_cents) : cents(Number(account.realized_pnl ?? 0));
  let valueC = 0;
  let unrealizedC = 0;
  const positions = Object.entries(positionsRaw)
    .map(([ticker, raw]): PositionView => {
      const p = JSON.parse(raw) as StoredPosition;
      const cost = costCents(p);
      const mark = opts.markPrices?.[ticker];
      const last = mark !== undefined && Number.isFinite(mark) && mark > 0 ? mark : pricesRaw[ticker] !== undefined ? Number(pricesRaw[ticker]) : cost / 100 / p.quantity;
      const mv = cents(p.quantity * last);
      valueC += mv;
      unrealizedC += mv - cost;
      return { ticker, quantity: p.quantity, avg_price: Math.round((cost / p.quantity) * 100) / 10_000, last_price: last, market_value: dollars(mv), unrealized_pnl: dollars(mv - cost) };
    })
    .sort((a, b) => a.ticker.localeCompare(b.ticker));
  const equityC = cashC + valueC;
  return {
    agent,
    starting_cash: dollars(startC),
    cash: dollars(cashC),
    equity: dollars(equityC),
    positions,
    realized_pnl: dollars(realizedC),
    unrealized_pnl: dollars(unrealizedC),
    total_pnl: dollars(equityC - startC),
    trades: tradesRaw.map((t) => JSON.parse(t) as Trade).reverse(),
    equity_curve: curveRaw.map((c) => JSON.parse(c) as { t: string; equity: number }),
  };
}
