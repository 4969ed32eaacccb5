/** The NYSE market calendar. Its only door. */
export { MarketCalendar, nyDate, type MarketSession, type SessionPhase, type SessionWindow, type MarketStatus } from './market-calendar.ts';
export { holidaysOfYear, earlyClosesOfYear, easterSunday, KNOWN_ONE_OFF_CLOSURES, NY_ZONE } from './nyse-holidays.ts';
