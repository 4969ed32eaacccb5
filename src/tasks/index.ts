/** The tasks room: workers that run trading cycles, and the job store the API reads. Its only door. */
export { startWorkers, type WorkerService, type WorkerOptions } from './worker-service.ts';
export { enqueueCycle, enqueueManualCycles, findJob, getJobView, listJobs, cancelJob, type QueueSet, type JobStore, type ListQuery, type CancelResult } from './job-store.ts';
export { toJobView, approvalJobStatus, resultOf, dueTimeFromJobId, nyDate, type JobView } from './job-view.ts';
export { readWorkers, type WorkerView, type WorkerHeartbeat } from './worker-heartbeat.ts';
export { admit, MIN_STALE_MS, type Admission, type SkipReason } from './admission.ts';
export { indexJob, isJobCursor, pruneJobIndex } from './job-index.ts';
export type { CycleFunction } from './cycle-execution.ts';
export { retryJob, type RetryResult } from './job-retry.ts';
export { readAttemptLog, type AttemptEntry } from './attempt-log.ts';
export { setQueuePaused } from './queue-control.ts';
export { decideApproval, type DecideResult } from './approval-gate.ts';
export { backfillHistory, finishedJobRecord, type BackfillCount, type BackfillProgress } from './history-backfill.ts';
