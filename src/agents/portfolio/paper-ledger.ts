import type { Redis } from 'ioredis';
import { productKeys, type Decision, type PaperFill } from '../../core/index.ts';

export interface PortfolioSettings {
  starting_cash: number;
  target_percent: number;
  commission_per_trade: number;
  slippage_bps: number;
}

interface Position {
  quantity: number;
  /** Cost basis per share, fees included. */
  avg_price: number;
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

export interface PortfolioView {
  agent: string;
  starting_cash: number;
  cash: number;
  equity: number;
  positions: Array<{ ticker: string; quantity: number; avg_price: number; last_price: number; market_value: number; unrealized_pnl: number }>;
  realized_pnl: number;
  unrealized_pnl: number;
  total_pnl: number;
  trades: Trade[];
  equity_curve: Array<{ t: string; equity: number }>;
}

const cents = (n: number) => Math.round(n * 100);
const dollars = (c: number) => c / 100;

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

const MAX_CURVE = 5_000;

/**
 * Applies a cycle's decision to the agent's paper account, at most once per job id (a retried or
 * recovered cycle finds the marker and gets the original fill back). Optimistic transaction: a
 * concurrent cycle of the same agent makes EXEC fail and we recompute on fresh state.
 * BUY → hold `target_percent` of equity in the ticker; SELL → exit; HOLD → mark to market only.
 */
export async function applyDecision(
  shared: Redis,
  prefix: string,
  args: { agent: string; jobId: string; ticker: string; decision: Decision; price: number; settings: PortfolioSettings; at: Date },
): Promise<PaperFill | null> {
  const k = ledgerKeys(prefix, args.agent);
  const marker = k.applied(args.jobId);
  // WATCH belongs to a connection: a private one keeps other commands in this process out of the transaction.
  const redis = shared.duplicate();
  redis.on('error', () => {});
  try {
    return await transact();
  } finally {
    redis.disconnect();
  }
  async function transact(): Promise<PaperFill | null> {
  for (let attempt = 0; attempt < 50; attempt++) {
    await redis.watch(k.account, k.positions, marker);
    const done = await redis.get(marker);
    if (done !== null) {
      await redis.unwatch();
      return JSON.parse(done) as PaperFill | null;
    }
    const account = await redis.hgetall(k.account);
    const cashC = account.cash_cents !== undefined ? Number(account.cash_cents) : cents(args.settings.starting_cash);
    const positions = Object.fromEntries(Object.entries(await redis.hgetall(k.positions)).map(([t, v]) => [t, JSON.parse(v) as Position]));
    const prices = Object.fromEntries(Object.entries(await redis.hgetall(k.prices)).map(([t, v]) => [t, Number(v)]));
    prices[args.ticker] = args.price;
    const equityC = cashC + Object.entries(positions).reduce((s, [t, p]) => s + cents(p.quantity * (prices[t] ?? p.avg_price)), 0);
    const pos = positions[args.ticker] ?? { quantity: 0, avg_price: 0 };
    const s = args.settings;
    const feeC = cents(s.commission_per_trade);
    let fill: PaperFill | null = null;
    let trade: Trade | null = null;
    let newPos: Position | null = pos;
    let newCashC = cashC;
    if (args.decision === 'BUY') {
      const fillPrice = Math.round(args.price * (1 + s.slippage_bps / 10_000) * 100) / 100;
      const targetQty = Math.floor((dollars(equityC) * s.target_percent) / fillPrice);
      const affordable = Math.floor(Math.max(0, dollars(cashC - feeC)) / fillPrice);
      const qty = Math.min(targetQty - pos.quantity, affordable);
      if (qty > 0) {
        const costC = cents(qty * fillPrice) + feeC;
        newCashC = cashC - costC;
        const quantity = pos.quantity + qty;
        newPos = { quantity, avg_price: (pos.quantity * pos.avg_price + dollars(costC)) / quantity };
        fill = { side: 'BUY', quantity: qty, price: fillPrice, fees: dollars(feeC), cash_after: dollars(newCashC) };
        trade = { job_id: args.jobId, at: args.at.toISOString(), ticker: args.ticker, side: 'BUY', quantity: qty, price: fillPrice, fees: dollars(feeC), realized_pnl: 0, cash_after: dollars(newCashC) };
      }
    } else if (args.decision === 'SELL' && pos.quantity > 0) {
      const fillPrice = Math.round(args.price * (1 - s.slippage_bps / 10_000) * 100) / 100;
      const proceedsC = cents(pos.quantity * fillPrice) - feeC;
      newCashC = cashC + proceedsC;
      const realized = dollars(proceedsC) - pos.quantity * pos.avg_price;
      newPos = null;
      fill = { side: 'SELL', quantity: pos.quantity, price: fillPrice, fees: dollars(feeC), cash_after: dollars(newCashC) };
      trade = { job_id: args.jobId, at: args.at.toISOString(), ticker: args.ticker, side: 'SELL', quantity: pos.quantity, price: fillPrice, fees: dollars(feeC), realized_pnl: Math.round(realized * 100) / 100, cash_after: dollars(newCashC) };
    }
    const after = { ...positions };
    if (newPos) after[args.ticker] = newPos;
    else delete after[args.ticker];
    const equityAfterC = newCashC + Object.entries(after).reduce((sum, [t, p]) => sum + cents(p.quantity * (prices[t] ?? p.avg_price)), 0);
    const multi = redis.multi();
    multi.set(marker, JSON.stringify(fill), 'EX', 8 * 24 * 3600);
    multi.sadd(k.agents, args.agent);
    multi.hset(k.account, 'cash_cents', String(newCashC), 'starting_cash', String(s.starting_cash));
    if (trade) multi.hincrbyfloat(k.account, 'realized_pnl', trade.realized_pnl);
    if (newPos && newPos.quantity > 0) multi.hset(k.positions, args.ticker, JSON.stringify(newPos));
    else multi.hdel(k.positions, args.ticker);
    multi.hset(k.prices, args.ticker, String(args.price));
    if (trade) multi.rpush(k.trades, JSON.stringify(trade));
    multi.rpush(k.curve, JSON.stringify({ t: args.at.toISOString(), equity: dollars(equityAfterC) }));
    multi.ltrim(k.curve, -MAX_CURVE, -1);
    if ((await multi.exec()) !== null) return fill;
  }
  throw new Error(`paper ledger of ${args.agent} is too contended; fill for ${args.jobId} not applied`);
  }
}

export async function listPortfolioAgents(redis: Redis, prefix: string): Promise<string[]> {
  return (await redis.smembers(ledgerKeys(prefix, '_').agents)).sort();
}

/** The agent's paper account valued at the last prices its cycles saw. */
export async function getPortfolio(redis: Redis, prefix: string, agent: string, opts: { trades?: number; curve?: number } = {}): Promise<PortfolioView | null> {
  const k = ledgerKeys(prefix, agent);
  const account = await redis.hgetall(k.account);
  if (account.cash_cents === undefined) return null;
  const [positionsRaw, pricesRaw, tradesRaw, curveRaw] = await Promise.all([
    redis.hgetall(k.positions),
    redis.hgetall(k.prices),
    redis.lrange(k.trades, -(opts.trades ?? 200), -1),
    redis.lrange(k.curve, -(opts.curve ?? 1000), -1),
  ]);
  const cashC = Number(account.cash_cents);
  const positions = Object.entries(positionsRaw)
    .map(([ticker, raw]) => {
      const p = JSON.parse(raw) as Position;
      const last = Number(pricesRaw[ticker] ?? p.avg_price);
      const value = Math.round(p.quantity * last * 100) / 100;
      return { ticker, quantity: p.quantity, avg_price: Math.round(p.avg_price * 10_000) / 10_000, last_price: last, market_value: value, unrealized_pnl: Math.round((value - p.quantity * p.avg_price) * 100) / 100 };
    })
    .sort((a, b) => a.ticker.localeCompare(b.ticker));
  const equityC = cashC + positions.reduce((s, p) => s + cents(p.market_value), 0);
  const unrealized = positions.reduce((s, p) => s + p.unrealized_pnl, 0);
  const realized = Number(account.realized_pnl ?? 0);
  return {
    agent,
    starting_cash: Number(account.starting_cash),
    cash: dollars(cashC),
    equity: dollars(equityC),
    positions,
    realized_pnl: Math.round(realized * 100) / 100,
    unrealized_pnl: Math.round(unrealized * 100) / 100,
    total_pnl: Math.round((dollars(equityC) - Number(account.starting_cash)) * 100) / 100,
    trades: tradesRaw.map((t) => JSON.parse(t) as Trade).reverse(),
    equity_curve: curveRaw.map((c) => JSON.parse(c) as { t: string; equity: number }),
  };
}
