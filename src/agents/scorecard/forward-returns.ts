import type { Redis } from 'ioredis';
import { MarketCalendar, nyDate } from '../../calendar/index.ts';
import type { Bar } from '../analysis-types.ts';
import type { MarketDataProvider } from '../data/market-data-provider.ts';
import { pricedOn, scorecardKeys, type ScoredDecision } from './decision-log.ts';

const calendar = new MarketCalendar();
/** Sessions of history fetched by the daily update: decisions older than that can no longer be scored. */
const LOOKBACK = 300;
/** Daily bars settle a little after the close. */
const SETTLE_MS = 15 * 60_000;

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

/** The bars of sessions that have closed by `now` (a forming bar of today is not a close). */
function closedSessions(daily: Bar[], now: Date): Array<{ date: string; close: number }> {
  const today = nyDate(now);
  return daily
    .map((b) => ({ date: nyDate(new Date(b.t)), close: b.c }))
    .filter(({ date }) => {
      if (date < today) return true;
      if (date > today) return false;
      const session = calendar.sessionOn(date, 'regular');
      return session !== null && now.getTime() >= session.close.getTime() + SETTLE_MS;
    });
}

/**
 * Scores this ticker's pending decisions against daily bars a caller already has (a cycle fetched them
 * anyway). A decision's base is the session of its price (`price_date`, the day of its `as_of`; entries
 * without one: their date), or on a day without a session the last session before;
 * the return at +n is the close n sessions later over the decision price. A decision leaves the pending
 * set once its +5 return is known, or when it is older than the bars can reach. Only decisions taken
 * on data from the same source are scored. Returns how many
 * decisions changed.
 */
export async function scoreTickerFromBars(redis: Redis, prefix: string, ticker: string, bars: { daily: Bar[]; source: string }, now: Date): Promise<number> {
  const { daily, source } = bars;
  const k = scorecardKeys(prefix);
  const sessions = closedSessions(daily, now);
  const lastClosed = sessions.at(-1)?.date;
  if (!lastClosed) return 0;
  // Nothing new since the last pass (and no decision recorded since): skip the reads.
  if ((await redis.get(k.scoredThrough(ticker, source))) === lastClosed) return 0;
  const members = await redis.smembers(k.pending(ticker));
  const byAgent = new Map<string, string[]>();
  for (const m of members) {
    const [agent, jobId] = m.split('|') as [string, string];
    byAgent.set(agent, [...(byAgent.get(agent) ?? []), jobId]);
  }
  let changed = 0;
  for (const [agent, jobIds] of byAgent) {
    const raws = await redis.hmget(k.entries(agent), ...jobIds);
    const writes = redis.multi();
    jobIds.forEach((jobId, idx) => {
      const member = `${agent}|${jobId}`;
      const raw = raws[idx];
      if (!raw) return void writes.srem(k.pending(ticker), member);
      const e = JSON.parse(raw) as ScoredDecision;
      // Real decisions are never scored with simulated closes, nor the other way round.
      if (e.data_source && e.data_source !== source) return;
      // From the session of the price the decision saw (a cycle run before the open decided on the close before).
      const from = pricedOn(e);
      let base = -1;
      for (let i = 0; i < sessions.length && sessions[i]!.date <= from; i++) base = i;
      if (base < 0) {
        // Older than the bars reach (or before the first bar): it can never be scored from here.
        if (sessions[0]!.date > from) writes.srem(k.pending(ticker), member);
        return;
      }
      const ret = (n: number) => (base + n < sessions.length && e.price > 0 ? round6(sessions[base + n]!.close / e.price - 1) : null);
      const r1 = ret(1);
      const r5 = ret(5);
      if (r1 !== e.return_1d || r5 !== e.return_5d) {
        writes.hset(k.entries(agent), jobId, JSON.stringify({ ...e, return_1d: r1, return_5d: r5 }));
        changed++;
      }
      if (r5 !== null) writes.srem(k.pending(ticker), member);
    });
    await writes.exec();
  }
  await redis.set(k.scoredThrough(ticker, source), lastClosed, 'EX', 7 * 24 * 3600);
  return changed;
}

/**
 * The daily pass the scheduler runs (e.g. after the close): fetches daily bars for every ticker with
 * decisions still waiting for a forward return and scores them, so agents whose tickers are no longer
 * analysed are scored too. A ticker whose data cannot be fetched is reported and left for next time.
 */
export async function updateForwardReturns(
  redis: Redis,
  prefix: string,
  opts: { provider: MarketDataProvider; now?: () => Date; signal?: AbortSignal },
): Promise<{ tickers: number; updated: number; failed: Array<{ ticker: string; error: string }> }> {
  const k = scorecardKeys(prefix);
  const now = opts.now?.() ?? new Date();
  const tickers = (await redis.smembers(k.pendingTickers)).sort();
  let updated = 0;
  const failed: Array<{ ticker: string; error: string }> = [];
  for (const ticker of tickers) {
    opts.signal?.throwIfAborted();
    if ((await redis.scard(k.pending(ticker))) === 0) {
      await redis.srem(k.pendingTickers, ticker);
      continue;
    }
    try {
      const daily = await opts.provider.getDailyBars(ticker, { to: nyDate(now), lookbackDays: LOOKBACK, signal: opts.signal });
      updated += await scoreTickerFromBars(redis, prefix, ticker, { daily, source: opts.provider.name }, now);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      failed.push({ ticker, error: (err as Error).message });
    }
  }
  return { tickers: tickers.length, updated, failed };
}
