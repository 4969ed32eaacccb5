/**
 * Unscheduled full-day closures the NYSE announced since 2000 (no rule predicts them). Closures announced
 * later are added without code through MARKET_CLOSURES=YYYY-MM-DD,… (core config → `extraClosures`).
 * The reasons are kept for people reading this list; the calendar names every one-off 'Closure'.
 */
export const KNOWN_ONE_OFF_CLOSURES: Readonly<Record<string, string>> = {
  '2001-09-11': 'September 11 attacks',
  '2001-09-12': 'September 11 attacks',
  '2001-09-13': 'September 11 attacks',
  '2001-09-14': 'September 11 attacks',
  '2004-06-11': 'National day of mourning for President Reagan',
  '2007-01-02': 'National day of mourning for President Ford',
  '2012-10-29': 'Hurricane Sandy',
  '2012-10-30': 'Hurricane Sandy',
  '2018-12-05': 'National day of mourning for President George H. W. Bush',
  '2025-01-09': 'National day of mourning for President Carter',
};
