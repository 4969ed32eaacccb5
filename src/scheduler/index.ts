/** The scheduler room: schedules.yaml → BullMQ job schedulers. Its only door. */
export { startScheduler, type SchedulerService, type SchedulerDeps } from './scheduler-service.ts';
export { loadScheduleFile, parseScheduleText, scheduleTextHash, ScheduleFileError, formatIssue, type ScheduleSet, type ScheduleFileIssue } from './schedule-file.ts';
export {
  readPublishedSchedules,
  readPublishedAgents,
  readPublishedAgent,
  readPublishedAgentNames,
  readPausedIds,
  readLoadStatus,
  type ScheduleLoadStatus,
} from './schedule-registry.ts';
export { desiredSchedulers } from './desired-schedulers.ts';
export { describeSchedules, setSchedulePaused, formatDuration, type ScheduleView, type LastRun, type PauseNote } from './schedule-views.ts';
export { describeSchedule, plannedRuns, sessionSlots, MAX_NEXT_RUNS, type ScheduleDetail, type ScheduleTimeline, type TimelineSlot } from './schedule-detail.ts';
export { lineDiff } from './line-diff.ts';
export { readPublishedSource, readPresence, readSourceConflicts, shortHash, type PublishedSource, type SchedulerPresence, type SourceConflict } from './schedule-source.ts';
export { publishScheduleSet } from './schedule-registry.ts';
