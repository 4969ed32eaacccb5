/**
 * Our own Redis keys (BullMQ's live under `<prefix>:<queue>:*`). Everything sits under QUEUE_PREFIX
 * so two installs, or a test run, can share one Redis.
 */
export function productKeys(prefix: string) {
  const k = (...parts: string[]) => [prefix, 'tl', ...parts].join(':');
  return {
    /** Hash schedule_id → published ScheduleEntry JSON (written by the scheduler). */
    schedules: k('schedules'),
    /** Hash agent name → AgentProfile JSON (written by the scheduler). */
    agents: k('agents'),
    /** String: JSON {loaded_at, file, ok, error?} — the scheduler's last load. */
    scheduleStatus: k('schedule-status'),
    /** Set of paused schedule ids. */
    paused: k('paused'),
    /** Pub/sub channel for schedule control (pause/resume/reload). */
    controlChannel: k('control'),
    /** Pub/sub channel for product events (schedule.changed, worker.online …). */
    eventsChannel: k('events'),
    /** Hash worker id → heartbeat JSON. */
    workers: k('workers'),
    /** Hash "<schedule_id>:<ticker>" → last run JSON. */
    lastRuns: k('last-runs'),
    /** Hash "<schedule_id>:<ticker>" → JSON {queue, job_id, due}: a due run kept when its job scheduler was rewritten. */
    keptRuns: k('kept-runs'),
    lock: (name: string) => k('lock', name),
    custom: (...parts: string[]) => k(...parts),
  };
}

export type ProductKeys = ReturnType<typeof productKeys>;
