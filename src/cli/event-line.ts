import type { LiveEvent } from '../dashboard/index.ts';

const nyClock = (iso: string) => new Date(iso).toLocaleTimeString('en-US', { timeZone: 'America/New_York', hour12: false }) + ' ET';

/** One live event as one terminal line: time, type, then the fields an operator scans for. */
export function eventLine(e: LiveEvent): string {
  const parts: string[] = [nyClock(e.at), e.type.padEnd(17)];
  const add = (label: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== '') parts.push(label ? `${label}=${String(v)}` : String(v));
  };
  add('', e.ticker);
  add('agent', e.agent);
  add('schedule', e.schedule_id);
  add('queue', e.queue);
  add('', e.decision);
  add('reason', e.reason);
  add('error', e.error);
  if (e.type === 'cycle.progress' && e.progress && typeof e.progress === 'object') {
    const p = e.progress as { stage?: string; percent?: number };
    add('', `${p.percent ?? '?'}% ${p.stage ?? ''}`.trim());
  }
  add('worker', e.worker);
  add('by', e.by);
  add('job', e.job_id);
  return parts.join('  ');
}
