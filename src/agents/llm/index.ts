/** The multi-agent LLM engine (TradingAgents-style). */
export { runLlmAnalysis, decisionFromRating, type LlmAnalysisOutcome, type LlmDeps } from './llm-pipeline.ts';
export { createOpenAIClient, TokenBudgetExceededError, StructuredOutputError, parseJson, type CallUsage } from './llm-client.ts';
export { DEFAULT_PRICES, callCost, priceCall, isLocalServer, pricingOf, lacksPrice, type PriceTable, type Pricing } from './llm-pricing.ts';
export { capabilitiesOf, effortFor, canonicalModel, type ReasoningEffort } from './model-capabilities.ts';
export { readDeskRun, type DeskRun } from './desk-run-store.ts';
