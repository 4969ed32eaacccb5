/** The agents room: market data, analysis engines, paper portfolio, scorecard. Its only door. */
export { runTradingCycle, analyseTradingCycle, settleTradingCycle, PAST_DATE_NOTE, type CycleDeps, type SettleContext } from './trading-cycle.ts';
export { CYCLE_STAGES, type CycleStage, type CycleContext } from './cycle-context.ts';
export type { Bar, MarketSnapshot, AnalysisOutcome, EngineInput, NewsItem } from './analysis-types.ts';

// Market data
export { createMarketDataProvider, resetMarketDataFallback, OUTAGE_MEMORY_MS, type MarketDataOptions } from './data/provider-selection.ts';
export { createSimulatedProvider } from './data/simulated-provider.ts';
export { createYahooProvider } from './data/yahoo-provider.ts';
export { createAlpacaProvider } from './data/alpaca-provider.ts';
export { withRedisCache, DEFAULT_CACHE_TTL, type CacheTtl } from './data/cached-provider.ts';
export { UnknownTickerError, DataSourceUnavailableError, type MarketDataProvider } from './data/market-data-provider.ts';
export { buildMarketSnapshot, DAILY_LOOKBACK } from './market-snapshot.ts';
export { computeIndicators } from './indicators.ts';

// Quant engine
export { runQuantAnalysis, quantSignals, volatilityRegime, ratingFromScore, decisionOf, type QuantSignal } from './quant/quant-engine.ts';

// Paper portfolio (for the dashboard)
export { applyDecision, getPortfolio, listPortfolioAgents, type PortfolioView, type PositionView, type PortfolioSettings, type Trade } from './portfolio/paper-ledger.ts';

// Scorecard (for the dashboard, and the scheduler's daily pass)
export { getScorecard, readScoredDecisions, scorecardOf, type Scorecard, type ScorecardSummary } from './scorecard/scorecard.ts';
export { headToHead, type HeadToHead, type HeadToHeadSide } from './scorecard/head-to-head.ts';
export { pricedOn, recordDecision, readForwardReturns, type ScoredDecision } from './scorecard/decision-log.ts';
export { updateForwardReturns, scoreTickerFromBars } from './scorecard/forward-returns.ts';

// The LLM desk's memory and audit trail (for the dashboard)
export { listLessons, type Lesson } from './memory/lesson-log.ts';
export { readDeskRun, type DeskRun } from './llm/desk-run-store.ts';
export { pricingOf, lacksPrice, type Pricing } from './llm/llm-pricing.ts';
export { pruneAgentHistory, type HistoryRetention } from './history-retention.ts';
