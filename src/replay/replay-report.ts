import { nyDate } from '../calendar/index.ts';
import type { Decision } from '../core/index.ts';
import { curveStats, type CurveStats, type EquityPoint } from './equity-curve.ts';
import { BuyAndHold, ReplayLedger, type LedgerFill, type LedgerSettings } from './replay-ledger.ts';
import { compareAll, type PairComparison } from './replay-compare.ts';
import type { ReplayCycle, ReplaySlot, ReplaySpec, ReplayState } from './replay-types.ts';

type ByDecision<T> = Record<Decision, T>;

export interface DecisionRow {
  i: number;
  date: string;
  as_of: string | null;
  ticker: string;
  decision: Decision | null;
  confidence: number | null;
  price: number | null;
  /** The session the price came from (the New York day of its `as_of`): forward returns count from it. */
  price_date: string | null;
  fill: LedgerFill | null;
  equity_after: number | null;
  return_1d: number | null;
  return_5d: number | null;
  /** The known part when cost_unknown. */
  cost_usd: number;
  cost_unknown: boolean;
  tokens: number;
  cycle_ms: number | null;
  data_source: string | null;
  job_id: string;
  status: 'completed' | 'failed';
  error: string | null;
}

export interface ForwardStats {
  /** BUYs followed by a rise and SELLs by a fall, over directional decisions whose return is known. */
  hit_rate: number | null;
  scored: number;
  mean_return: ByDecision<number | null>;
  count: ByDecision<number>;
}

export interface ProfileReport {
  profile: string;
  engine: string;
  models: string[];
  starting_cash: number;
  cycles: { total: number; completed: number; failed: number };
  decisions: ByDecision<number>;
  by_day: Array<{ date: string } & ByDecision<number>>;
  rows: DecisionRow[];
  equity_curve: EquityPoint[];
  final_equity: number | null;
  cash: number;
  positions: Array<{ ticker: string; quantity: number; cost: number; last_price: number | null }>;
  realized_pnl: number;
  trades: number;
  strategy: CurveStats;
  buy_and_hold: CurveStats;
  forward: { '1d': ForwardStats; '5d': ForwardStats };
  /** The sum of the known costs: only a lower bound of what was spent when cost_unknown_cycles > 0. */
  cost_usd: number;
  /** Cycles some of whose cost is not known (an unpriced hosted model, a server that reported no usage). */
  cost_unknown_cycles: number;
  tokens: number;
  cycle_ms: { mean: number | null; p95: number | null };
  data_sources: string[];
}

const round = (n: number, d = 6) => Math.round(n * 10 ** d) / 10 ** d;
const mean = (xs: number[]) => (xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length) : null);

/** Nearest-rank percentile. */
export function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Hit rate and mean forward return by decision over rows carrying a return at `key`. */
export function forwardStats(rows: Array<Pick<DecisionRow, 'decision'> & { ret: number | null }>): ForwardStats {
  const count: ByDecision<number> = { BUY: 0, SELL: 0, HOLD: 0 };
  const sums: ByDecision<number[]> = { BUY: [], SELL: [], HOLD: [] };
  let hits = 0;
  let scored = 0;
  for (const r of rows) {
    if (!r.decision || r.ret === null) continue;
    count[r.decision]++;
    sums[r.decision].push(r.ret);
    if (r.decision !== 'HOLD') {
      scored++;
      if (r.decision === 'BUY' ? r.ret > 0 : r.ret < 0) hits++;
    }
  }
  return {
    hit_rate: scored ? round(hits / scored, 4) : null,
    scored,
    mean_return: { BUY: mean(sums.BUY), SELL: mean(sums.SELL), HOLD: mean(sums.HOLD) },
    count,
  };
}

/** The trading calendar a report is drawn on. */
export interface ReplaySessions {
  /** The close instant of a session date (ISO), for points of end-of-day replays. */
  closeOf(date: string): string;
  /** The trading sessions from `from` to `to`, both included, in order. */
  between(from: string, to: string): string[];
}

/**
 * Forward returns at +n sessions, as the live scorecard counts them: from the session of the price the
 * decision saw (`price_date`, not always its slot's date: a slot without that day's bars decides on the
 * close before), to the close of the n-th trading session after it as the replay saw it (the latest price
 * it saw from that session: its close, or for intraday replays the session's last slot), over the decision's
 * price. Null when the replay saw no price from that session (past its end, or its cycles failed).
 */
function attachForwardReturns(rows: DecisionRow[], sessions: ReplaySessions): void {
  const byTicker = new Map<string, DecisionRow[]>();
  for (const r of rows) if (r.status === 'completed' && r.price !== null) byTicker.set(r.ticker, [...(byTicker.get(r.ticker) ?? []), r]);
  for (const list of byTicker.values()) {
    // Rows come in slot order, so the last price seen from a session is its latest.
    const closes = new Map<string, number>();
    for (const r of list) closes.set(r.price_date!, r.price!);
    const seen = [...closes.keys()].sort();
    const days = sessions.between(seen[0]!, seen.at(-1)!);
    for (const r of list) {
      // The session of the price, or on a day without one the last session before (as the scorecard does).
      let k = -1;
      for (let i = 0; i < days.length && days[i]! <= r.price_date!; i++) k = i;
      const ret = (n: number) => {
        const close = k < 0 ? undefined : closes.get(days[k + n] ?? '');
        return close === undefined ? null : round(close / r.price! - 1);
      };
      r.return_1d = ret(1);
      r.return_5d = ret(5);
    }
  }
}

const slotInstant = (slot: ReplaySlot, closeOf: (date: string) => string) => slot.as_of ?? closeOf(slot.date);

/**
 * One profile's report from its recorded cycles: the replay ledger run in session order, buy-and-hold
 * of the same tickers from the same prices, curve statistics, forward returns by decision, cost and
 * cycle time. Pure: the same cycles always give the same report.
 */
export function profileReport(args: {
  profile: string;
  engine: string;
  models: string[];
  settings: LedgerSettings;
  tickers: string[];
  slots: ReplaySlot[];
  cycles: ReplayCycle[];
  sessions: ReplaySessions;
}): ProfileReport {
  const ledger = new ReplayLedger(args.settings);
  const hold = new BuyAndHold(args.settings, args.tickers);
  const cycles = args.cycles.filter((c) => c.profile === args.profile).sort((a, b) => a.i - b.i);
  const rows: DecisionRow[] = [];
  const curve: EquityPoint[] = [];
  const perSlot = new Map<number, ReplayCycle[]>();
  const slotIndex = new Map(args.slots.map((s, k) => [`${s.date}|${s.as_of ?? ''}`, k]));
  const slotOf = (c: ReplayCycle) => slotIndex.get(`${c.date}|${c.as_of ?? ''}`) ?? -1;
  for (const c of cycles) {
    const s = slotOf(c);
    perSlot.set(s, [...(perSlot.get(s) ?? []), c]);
  }
  for (const [s, list] of [...perSlot].sort(([a], [b]) => a - b)) {
    for (const c of list) {
      const ok = c.status === 'completed' && c.decision !== null && c.price !== null;
      const fill = ok ? ledger.apply({ ticker: c.ticker, date: c.date, as_of: c.as_of, decision: c.decision!, price: c.price! }) : null;
      if (ok) hold.mark(c.ticker, c.price!);
      rows.push({
        i: c.i,
        date: c.date,
        as_of: c.as_of,
        ticker: c.ticker,
        decision: c.decision,
        confidence: c.confidence,
        price: c.price,
        price_date: c.price === null ? null : c.price_as_of ? nyDate(new Date(c.price_as_of)) : c.date,
        fill,
        equity_after: ok ? ledger.equity() : null,
        return_1d: null,
        return_5d: null,
        cost_usd: c.cost_usd,
        cost_unknown: c.cost_unknown === true,
        tokens: c.tokens,
        cycle_ms: c.cycle_ms,
        data_source: c.data_source,
        job_id: c.job_id,
        status: c.status,
        error: c.error,
      });
    }
    const slot = args.slots[s];
    if (slot && list.some((c) => c.status === 'completed')) curve.push({ t: slotInstant(slot, args.sessions.closeOf), date: slot.date, equity: ledger.equity(), buy_and_hold: hold.equity() });
  }
  attachForwardReturns(rows, args.sessions);
  const decisions: ByDecision<number> = { BUY: 0, SELL: 0, HOLD: 0 };
  const byDay = new Map<string, ByDecision<number>>();
  for (const r of rows) {
    if (!r.decision) continue;
    decisions[r.decision]++;
    const day = byDay.get(r.date) ?? { BUY: 0, SELL: 0, HOLD: 0 };
    day[r.decision]++;
    byDay.set(r.date, day);
  }
  const times = cycles.filter((c) => c.cycle_ms !== null).map((c) => c.cycle_ms!);
  const start = args.settings.starting_cash;
  return {
    profile: args.profile,
    engine: args.engine,
    models: args.models,
    starting_cash: start,
    cycles: { total: cycles.length, completed: cycles.filter((c) => c.status === 'completed').length, failed: cycles.filter((c) => c.status === 'failed').length },
    decisions,
    by_day: [...byDay].map(([date, d]) => ({ date, ...d })),
    rows,
    equity_curve: curve,
    final_equity: curve.at(-1)?.equity ?? null,
    cash: ledger.cashDollars(),
    positions: ledger.positionsView(),
    realized_pnl: ledger.realizedPnl(),
    trades: rows.filter((r) => r.fill).length,
    strategy: curveStats(start, curve.map((p) => ({ date: p.date, value: p.equity }))),
    buy_and_hold: curveStats(start, curve.map((p) => ({ date: p.date, value: p.buy_and_hold }))),
    forward: {
      '1d': forwardStats(rows.map((r) => ({ decision: r.decision, ret: r.return_1d }))),
      '5d': forwardStats(rows.map((r) => ({ decision: r.decision, ret: r.return_5d }))),
    },
    cost_usd: round(cycles.reduce((a, c) => a + c.cost_usd, 0)),
    cost_unknown_cycles: cycles.filter((c) => c.cost_unknown).length,
    tokens: cycles.reduce((a, c) => a + c.tokens, 0),
    cycle_ms: { mean: times.length ? Math.round(mean(times)!) : null, p95: percentile(times, 95) },
    data_sources: [...new Set(cycles.map((c) => c.data_source).filter((s): s is string => s !== null))].sort(),
  };
}

export interface ReplayReport {
  replay_id: string;
  status: string;
  from: string;
  to: string;
  schedule_id: string | null;
  tickers: string[];
  slots: number;
  progress: { done: number; total: number };
  profiles: ProfileReport[];
  comparisons: PairComparison[];
  generated_at: string;
}

/** The whole report: one section per profile, and every pair compared when there are two or more. */
export function buildReport(spec: ReplaySpec, state: ReplayState, cycles: ReplayCycle[], sessions: ReplaySessions, now: Date): ReplayReport {
  return {
    replay_id: spec.id,
    status: state.status,
    from: spec.from,
    to: spec.to,
    schedule_id: spec.schedule_id,
    tickers: spec.tickers,
    slots: spec.slots.length,
    progress: { done: state.done, total: spec.total },
    profiles: spec.profiles.map((profile) => {
      const p = spec.settings[profile]!;
      return profileReport({
        profile,
        engine: p.engine,
        models: p.engine === 'llm' ? [...new Set([p.quick_model, p.deep_model])] : [],
        settings: p.portfolio,
        tickers: spec.tickers,
        slots: spec.slots,
        cycles,
        sessions,
      });
    }),
    comparisons: compareAll(spec.profiles, cycles),
    generated_at: now.toISOString(),
  };
}
