/** The replay room: run desks over past sessions through the live queues, and compare them. Its only door. */
export { createReplay, getReplay, replayState, archiveReplay, listReplays, cancelReplay, replayCounts, toReplayView, etaSeconds, type ReplayContext, type ReplayView, type LlmPricingSettings } from './replay-service.ts';
export { startReplayHost, type ReplayHost, type ReplayHostOptions } from './replay-host.ts';
export { tickReplay, replayJobData, replayWindow, REPLAY_PRIORITY, MAX_CONSECUTIVE_FAILURES, QUANT_WINDOW_FACTOR, type CoordinatorDeps } from './replay-coordinator.ts';
export { planReplay, replayRequestSchema, ReplayRequestError, MAX_REPLAY_CYCLES, type ReplayRequest, type FieldIssue } from './replay-request.ts';
export { planSlots, tradingDays } from './replay-plan.ts';
export { buildReport, profileReport, forwardStats, percentile, type ReplayReport, type ProfileReport, type DecisionRow, type ReplaySessions } from './replay-report.ts';
export { comparePair, compareAll, type PairComparison } from './replay-compare.ts';
export { curveStats, maxDrawdown, sharpeRatio, type EquityPoint, type CurveStats } from './equity-curve.ts';
export { ReplayLedger, BuyAndHold, type LedgerSettings, type LedgerFill } from './replay-ledger.ts';
export { reportCsv, CSV_COLUMNS } from './report-csv.ts';
export { REPLAY_STATUSES, replayJobId, taskAt, type ReplayStatus, type ReplaySpec, type ReplayState, type ReplayCycle, type ReplaySlot } from './replay-types.ts';
