/** The NYSE market calendar. Its only door. */
export {
  MarketCalendar,
  ALWAYS_OPEN_UNTIL,
  type MarketCalendarOptions,
  type MarketSession,
  type SessionPhase,
  type SessionWindow,
  type MarketStatus,
} from './market-calendar.ts';
export { holidaysOfYear, earlyClosesOfYear, easterSunday } from './nyse-holidays.ts';
export { KNOWN_ONE_OFF_CLOSURES } from './one-off-closures.ts';
export { NY_ZONE, nyDate, parseMarketDate } from './ny-date.ts';
export { cronNext, cronError, cronLastBefore, CRON_MEMO_MS } from './cron-pattern.ts';
