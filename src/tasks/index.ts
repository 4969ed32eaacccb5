/** The tasks room: workers that run trading cycles, and the job store the API reads. Its only door. */
export { startWorkers, type WorkerService, type WorkerOptions } from './worker-service.ts';
export { enqueueCycle, findJob, getJobView, type QueueSet } from './job-store.ts';
export { toJobView, resultOf, dueTimeFromJobId, nyDate, type JobView } from './job-view.ts';
