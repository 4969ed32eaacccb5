import { Router } from 'express';
import { z } from 'zod';
import {
  agentNameSchema,
  BUILTIN_AGENTS,
  checkCycleOptions,
  cycleJobDataSchema,
  cycleOptionsSchema,
  isIssuedJobId,
  isoDateSchema,
  ownEntry,
  paperDryRunSchema,
  PRIORITY_QUEUE,
  readApproval,
  QUEUE_NAMES,
  tickerSchema,
  type CycleJobData,
  type CycleJobInput,
} from '../../core/index.ts';
import { readPublishedAgent, readPublishedAgentNames } from '../../scheduler/index.ts';
import { approvalJobStatus, cancelJob, enqueueCycle, findJob, getJobView, isJobCursor, listJobs, nyDate, readAttemptLog, resultOf, toJobView } from '../../tasks/index.ts';
import type { ApiContext } from '../api-context.ts';
import { jobFilterFields, parseJobFilter } from '../job-filter-query.ts';
import { HttpError, rejectUnknownQuery, validationError, withDeadline } from '../http-errors.ts';
import { admitCycles } from './cycle-admission.ts';
import { acknowledgeDurably } from '../replica-ack.ts';
import { fromHistory } from '../history-fallback.ts';

const createJobBody = z
  .object({
    ticker: tickerSchema,
    date: isoDateSchema.optional(),
    agent: agentNameSchema.default('quant'),
    config: cycleOptionsSchema.default({}),
    queue: z.enum(QUEUE_NAMES).default(PRIORITY_QUEUE),
    dry_run: paperDryRunSchema,
  })
  .strict();

const listQuery = z.object({ ...jobFilterFields, queue: z.enum(QUEUE_NAMES).optional() }).strict();

const REDIS_DEADLINE_MS = 2_000;

export function jobsRoutes(ctx: ApiContext): Router {
  const router = Router();

  const store = { redis: ctx.redis, keys: ctx.keys, queues: ctx.queues };

  // Only ids we issue reach Redis; anything else cannot name a job (and might name a BullMQ key).
  router.param('id', (_req, _res, next, id: string) => {
    if (isIssuedJobId(id)) return next();
    next(new HttpError(404, 'job not found', [{ field: 'id', message: `"${id.slice(0, 100)}" is not a job id issued by tradeloop (a UUID, repeat:<schedule>:<ticker>:<millis>, catchup:<schedule>:<ticker>@<millis> or replay-<replay_id>-<n>)` }]));
  });

  router.get('/jobs', async (req, res) => {
    const q = parseJobFilter(listQuery, req.query);
    if (q.cursor && !isJobCursor(q.cursor)) {
      throw new HttpError(400, 'invalid request query', [{ field: 'cursor', message: 'is not a cursor returned by this API' }]);
    }
    res.json(await withDeadline(listJobs(store, q), 5_000));
  });

  router.delete('/jobs/:id', async (req, res) => {
    const outcome = await withDeadline(cancelJob(store, req.params.id), REDIS_DEADLINE_MS);
    if (!outcome) throw new HttpError(404, 'job not found', [{ field: 'id', message: `no job ${req.params.id}` }]);
    if (outcome.outcome === 'finished') {
      throw new HttpError(409, `job is already ${outcome.view.status}`, [{ field: 'status', message: outcome.view.status }]);
    }
    res.status(outcome.outcome === 'cancelled' ? 200 : 202).json({ ...outcome.view, status: outcome.outcome === 'cancelled' ? 'cancelled' : outcome.view.status, cancel: outcome.outcome });
  });

  router.post('/jobs', async (req, res) => {
    const parsed = createJobBody.safeParse(req.body ?? {});
    if (!parsed.success) throw validationError(parsed.error);
    const body = parsed.data;
    // The agent, the queue's depth and the client's allowance are read together: one round trip's wait.
    const [published, admission] = await Promise.allSettled([withDeadline(readPublishedAgent(ctx.redis, ctx.keys, body.agent), REDIS_DEADLINE_MS), admitCycles(ctx, req, body.queue, 1)]);
    if (admission.status === 'rejected') throw admission.reason;
    let data: CycleJobData;
    try {
      if (published.status === 'rejected') throw published.reason;
      // A published agent of that name overrides the built-in one, as the schedules' agents do.
      const profile = published.value ?? ownEntry(BUILTIN_AGENTS, body.agent);
      if (!profile) {
        const defined = new Set([...Object.keys(BUILTIN_AGENTS), ...(await withDeadline(readPublishedAgentNames(ctx.redis, ctx.keys), REDIS_DEADLINE_MS))]);
        throw new HttpError(400, 'invalid request body', [{ field: 'agent', message: `unknown agent "${body.agent}" (defined: ${[...defined].sort().join(', ')})` }]);
      }
      const refused = checkCycleOptions(profile, body.config);
      if (refused.length) throw new HttpError(400, 'invalid request body', refused);
      const now = ctx.now();
      const today = nyDate(now.getTime());
      if (body.date && body.date > today) {
        throw new HttpError(400, 'invalid request body', [{ field: 'date', message: `${body.date} is in the future (today is ${today} in New York)` }]);
      }
      data = cycleJobDataSchema.parse({
        agent: body.agent,
        ticker: body.ticker,
        schedule_id: null,
        trigger: 'api',
        dry_run: body.dry_run,
        requested_at: now.toISOString(),
        date: body.date ?? today,
        market_hours: 'always',
        profile,
        options: body.config,
        overlap: 'allow',
      } satisfies CycleJobInput);
    } catch (err) {
      // Refused after the allowance was taken: the client keeps it.
      await admission.value.refund();
      throw err;
    }
    const view = await withDeadline(enqueueCycle(ctx.queues, body.queue, data, store, ctx.config), REDIS_DEADLINE_MS);
    await acknowledgeDurably(ctx, body.queue, [view.job_id]);
    res.status(202).location(`/api/jobs/${view.job_id}`).json(view);
  });

  router.get('/jobs/:id', async (req, res) => {
    rejectUnknownQuery(req.query, []);
    const view = await withDeadline(getJobView(store, req.params.id), REDIS_DEADLINE_MS);
    if (!view) {
      // Gone from Redis (retention, another install's Redis): the durable history still has it.
      const kept = await fromHistory(ctx, (h) => h.cycle(req.params.id));
      if (!kept) throw new HttpError(404, 'job not found', [{ field: 'id', message: `no job ${req.params.id}` }]);
      res.json({ ...kept.view, attempts_log: [] });
      return;
    }
    const attempts_log = await withDeadline(readAttemptLog(ctx.redis, ctx.keys, view.job_id, view.status === 'running'), REDIS_DEADLINE_MS);
    res.json({ ...view, attempts_log });
  });

  router.get('/jobs/:id/result', async (req, res) => {
    rejectUnknownQuery(req.query, []);
    const found = await withDeadline(findJob(ctx.queues, req.params.id), REDIS_DEADLINE_MS);
    if (!found) {
      const kept = await fromHistory(ctx, (h) => h.cycle(req.params.id));
      if (!kept) throw new HttpError(404, 'job not found', [{ field: 'id', message: `no job ${req.params.id}` }]);
      if (!kept.result) {
        const why = kept.view.error ?? kept.view.reason;
        throw new HttpError(409, `job is ${kept.view.status}; no result${why ? `: ${why}` : ''}`, [{ field: 'status', message: kept.view.status }]);
      }
      res.json({ job_id: kept.view.job_id, status: kept.view.status, ...kept.result, ...(kept.view.approval ? { approval: kept.view.approval } : {}), source: 'history' });
      return;
    }
    const view = toJobView(found.job, found.state, found.queue);
    const result = resultOf(found.job);
    if (!result) {
      const why = view.error ?? view.reason;
      throw new HttpError(409, `job is ${view.status}; no result${why ? `: ${why}` : ' yet'}`, [
        { field: 'status', message: view.status },
      ]);
    }
    if (result.awaiting_approval) {
      // A held decision's fill comes from its approval (null until, and unless, approved).
      const approval = await withDeadline(readApproval(ctx.redis, ctx.keys, view.job_id), REDIS_DEADLINE_MS);
      if (approval) {
        res.json({ job_id: view.job_id, status: approvalJobStatus(approval.status), ...result, fill: approval.fill, approval });
        return;
      }
    }
    res.json({ job_id: view.job_id, status: view.status, ...result });
  });

  return router;
}
