/** The multi-agent LLM engine (TradingAgents-style). */
export { runLlmAnalysis, decisionFromRating, type LlmAnalysisOutcome } from './llm-pipeline.ts';
export { createOpenAIClient, TokenBudgetExceededError, StructuredOutputError, parseJson, type CallUsage } from './llm-client.ts';
export { DEFAULT_PRICES, callCost, type PriceTable } from './llm-pricing.ts';
