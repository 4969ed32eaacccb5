/** The agents room: market data, analysis engines, paper portfolio, scorecard. Its only door. */
export { runTradingCycle, type CycleDeps } from './trading-cycle.ts';
export { CYCLE_STAGES, type CycleStage, type CycleContext } from './cycle-context.ts';
export type { Bar, MarketSnapshot, AnalysisOutcome, EngineInput, NewsItem } from './analysis-types.ts';
export { createMarketDataProvider, resetMarketDataFallback } from './data/provider-selection.ts';
export { createSimulatedProvider } from './data/simulated-provider.ts';
export { createYahooProvider } from './data/yahoo-provider.ts';
export { createAlpacaProvider } from './data/alpaca-provider.ts';
export { withRedisCache } from './data/cached-provider.ts';
export type { MarketDataProvider } from './data/market-data-provider.ts';
export { computeIndicators } from './indicators.ts';
export { runQuantAnalysis, quantSignals } from './quant/quant-engine.ts';
export { applyDecision, getPortfolio, listPortfolioAgents, type PortfolioView, type Trade } from './portfolio/paper-ledger.ts';
export { getScorecard, type Scorecard, type ScorecardSummary } from './scorecard/scorecard.ts';
export { recordDecision, type ScoredDecision } from './scorecard/decision-log.ts';
export { updateForwardReturns, scoreTickerFromBars } from './scorecard/forward-returns.ts';
