import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { MarketCalendar, type SessionWindow } from './index.ts';

/**
 * Properties over 2020–2030, deterministic: every session window is checked against New York wall-clock
 * bounds read back independently through Luxon, and instants sampled every 37 minutes (not a divisor of a
 * day, so samples drift through every time of day) are checked against those windows.
 */
const cal = new MarketCalendar();
const ZONE = 'America/New_York';
const START = Date.parse('2020-01-01T00:00:00Z');
const END = Date.parse('2031-01-01T00:00:00Z');
const STEP = 37 * 60_000;

const BOUNDS = {
  regular: { open: 9 * 60 + 30, close: 16 * 60, earlyClose: 13 * 60 },
  extended: { open: 4 * 60, close: 20 * 60, earlyClose: 17 * 60 },
} as const;

/** Every date from a week before START to a month after END, walked by calendar date. */
function dates(): string[] {
  const out: string[] = [];
  for (let d = new Date(START - 7 * 86_400_000); d.getTime() < END + 31 * 86_400_000; d.setUTCDate(d.getUTCDate() + 1)) {
    out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

const minutesOf = (local: DateTime) => local.hour * 60 + local.minute;

describe('property: 2020–2030', () => {
  for (const session of ['regular', 'extended'] as const) {
    it(`${session}: windows sit on trading days inside the bounds; open/next open/next close agree with them`, () => {
      const failures: string[] = [];
      const fail = (msg: string) => {
        if (failures.length < 20) failures.push(msg);
      };
      const bounds = BOUNDS[session];

      // 1. One window per trading day, at the session's wall-clock bounds on that very date.
      const windows: SessionWindow[] = [];
      for (const date of dates()) {
        const w = cal.sessionOn(date, session);
        const weekday = DateTime.fromISO(date, { zone: ZONE }).weekday;
        const tradingDay = weekday <= 5 && cal.holidayOn(date) === null;
        if ((w !== null) !== tradingDay) fail(`${date}: window ${w ? 'present' : 'missing'}, trading day ${tradingDay}`);
        if (!w) continue;
        const open = DateTime.fromJSDate(w.open, { zone: ZONE });
        const close = DateTime.fromJSDate(w.close, { zone: ZONE });
        const closeAt = cal.isEarlyClose(date) ? bounds.earlyClose : bounds.close;
        if (open.toISODate() !== date || minutesOf(open) !== bounds.open || open.second !== 0) fail(`${date}: opens ${open.toISO()}`);
        if (close.toISODate() !== date || minutesOf(close) !== closeAt || close.second !== 0) fail(`${date}: closes ${close.toISO()}`);
        if (w.early_close !== cal.isEarlyClose(date)) fail(`${date}: early_close ${w.early_close}`);
        windows.push(w);
      }
      expect(windows.length).toBeGreaterThan(11 * 250);

      // 2. Between consecutive windows nothing is open, and next open/close jump exactly across the gap.
      for (let i = 0; i + 1 < windows.length; i++) {
        const [w, next] = [windows[i]!, windows[i + 1]!];
        const t = (ms: number) => new Date(ms);
        if (!(w.close < next.open)) fail(`${w.date}: overlaps ${next.date}`);
        if (cal.nextOpen(w.close, session).getTime() !== next.open.getTime()) fail(`${w.date}: nextOpen(close)`);
        if (cal.nextOpen(w.open, session).getTime() !== next.open.getTime()) fail(`${w.date}: nextOpen(open)`);
        if (cal.nextClose(w.open, session).getTime() !== w.close.getTime()) fail(`${w.date}: nextClose(open)`);
        if (cal.nextClose(w.close, session).getTime() !== next.close.getTime()) fail(`${w.date}: nextClose(close)`);
        if (!cal.isOpen(w.open, session) || !cal.isOpen(t(w.close.getTime() - 1), session)) fail(`${w.date}: closed inside`);
        if (cal.isOpen(w.close, session) || cal.isOpen(t(next.open.getTime() - 1), session)) fail(`${w.date}: open in the gap`);
        if (cal.sessionsBetween(w.close, next.open, session).length !== 0) fail(`${w.date}: sessionsBetween the gap`);
      }

      // 3. Sampled instants: open exactly inside a window, on a weekday that is no holiday, within the
      //    wall-clock bounds; nextOpen(t) is strictly later and open; nextClose(t) closes the current/next window.
      let j = 0;
      let openSamples = 0;
      for (let ms = START; ms < END; ms += STEP) {
        const at = new Date(ms);
        while (windows[j]!.close.getTime() <= ms) j++;
        const w = windows[j]!;
        const expected = ms >= w.open.getTime();
        const open = cal.isOpen(at, session);
        if (open !== expected) fail(`${at.toISOString()}: isOpen ${open}`);
        if (open) {
          openSamples++;
          const local = DateTime.fromMillis(ms, { zone: ZONE });
          const date = local.toISODate()!;
          const closeAt = cal.isEarlyClose(date) ? bounds.earlyClose : bounds.close;
          const minutes = minutesOf(local);
          if (local.weekday > 5 || cal.holidayOn(date) !== null || minutes < bounds.open || minutes >= closeAt) fail(`${at.toISOString()}: open at ${local.toISO()}`);
        }
        const nextOpen = cal.nextOpen(at, session);
        if (!(nextOpen.getTime() > ms) || !cal.isOpen(nextOpen, session)) fail(`${at.toISOString()}: nextOpen ${nextOpen.toISOString()}`);
        if (nextOpen.getTime() !== (expected ? windows[j + 1]! : w).open.getTime()) fail(`${at.toISOString()}: nextOpen is not the next window's`);
        if (cal.nextClose(at, session).getTime() !== w.close.getTime()) fail(`${at.toISOString()}: nextClose`);
        if (session === 'regular') {
          const phase = cal.currentSession(at);
          const extended = cal.isOpen(at, 'extended');
          const consistent = phase === 'regular' ? open : phase === 'closed' ? !extended : extended && !open;
          if (!consistent) fail(`${at.toISOString()}: phase ${phase}`);
        }
      }
      expect(failures).toEqual([]);
      // About 6.5/24 (regular) or 16/24 (extended) of ~70% of the samples.
      expect(openSamples).toBeGreaterThan(session === 'regular' ? 25_000 : 65_000);
    });
  }
});
