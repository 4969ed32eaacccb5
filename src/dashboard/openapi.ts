/** The OpenAPI 3 document of the JSON API, served at /api/openapi.json and checked against the routes by a test. */
import { z } from 'zod';
import { cycleOptionsSchema, DECISIONS, JOB_STATUSES, QUEUE_NAMES } from '../core/index.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const errors = {
  '400': json(ref('Error'), 'Invalid input: the field and the reason'),
  '401': json(ref('Error'), 'Token required'),
  '503': json(ref('Error'), 'Redis unreachable'),
};
// Built from the schemas the routes parse, so the document cannot drift from what they accept.
const cycleOptions = () => ({
  ...z.toJSONSchema(cycleOptionsSchema, { target: 'openapi-3.0' }),
  description: "may only tighten the agent's profile: fewer rounds, analysts or tokens, a model the profile lists, an llm agent run as quant (else 400 naming config.<field>)",
});
const listParams = (names: string[]) =>
  names.map((name) => {
    const values: Record<string, readonly string[]> = { status: JOB_STATUSES, decision: DECISIONS, queue: QUEUE_NAMES };
    const schema = values[name] ? { type: 'string', enum: [...values[name]] } : { type: 'string' };
    const description = name === 'cursor' ? 'the previous answer\'s next_cursor (anything else is a 400 naming cursor)' : undefined;
    return { name, in: 'query', schema, ...(description ? { description } : {}) };
  });
const limitParam = { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } };
const idParam = (name: string, description: string) => ({ name, in: 'path', required: true, schema: { type: 'string' }, description });

/** Every write may be refused as read-only; the two that create cycles also by the per-client and queue-depth limits. */
function withWriteRefusals<T extends Record<string, Record<string, { responses: Record<string, unknown> }>>>(paths: T): T {
  for (const [path, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (method === 'get') continue;
      op.responses['403'] = json(ref('Error'), 'Read-only: DASHBOARD_READONLY=1 or the DASHBOARD_READ_TOKEN, or a cross-site request');
      if (path === '/api/jobs' || path === '/api/schedules/{id}/trigger') op.responses['429'] = json(ref('Error'), 'JOBS_PER_MINUTE used up for this client (Retry-After) or MAX_QUEUE_DEPTH jobs waiting');
    }
  }
  return paths;
}

export function openApiDocument() {
  return {
    openapi: '3.0.3',
    info: { title: 'tradeloop API', version: '0.1.0', description: 'Market-hours-aware trading-analysis orchestrator. Every error body is {error, details:[{field, message}]}. A query field an operation does not list is a 400 naming it (unknown field); a method a path does not list is a 405 with Allow.' },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'DASHBOARD_TOKEN (required when set)' } },
      schemas: {
        Error: { type: 'object', required: ['error', 'details'], properties: { error: { type: 'string' }, details: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } } } },
        Job: {
          type: 'object',
          properties: {
            job_id: { type: 'string' }, status: { type: 'string', enum: ['pending', 'running', 'completed', 'failed', 'cancelled', 'skipped', 'awaiting_approval', 'rejected', 'expired'] }, queue: { type: 'string' },
            ticker: { type: 'string' }, agent: { type: 'string' }, date: { type: 'string', format: 'date' }, schedule_id: { type: 'string', nullable: true }, trigger: { type: 'string' },
            dry_run: { type: 'boolean' }, requested_at: { type: 'string', format: 'date-time' }, created_at: { type: 'string', format: 'date-time' },
            started_at: { type: 'string', nullable: true }, completed_at: { type: 'string', nullable: true }, attempts: { type: 'integer' }, progress: {},
            worker: { type: 'string', nullable: true }, error: { type: 'string' }, reason: { type: 'string' }, decision: { type: 'string', enum: ['BUY', 'SELL', 'HOLD'] },
            confidence: { type: 'number' }, engine: { type: 'string' }, models: { type: 'array', items: { type: 'string' } }, cost_usd: { type: 'number', description: 'what the job cost, all its attempts (job_usage, else usage); a lower bound when cost_unknown is set' }, cost_unknown: { type: 'boolean', description: 'set when some LLM call\'s cost is not known (an unpriced hosted model, a server that reported no usage)' }, data_source: { type: 'string' }, duration_ms: { type: 'number', nullable: true },
            attempts_log: { type: 'array', description: 'GET /api/jobs/{id} only: every attempt', items: ref('Attempt') }, approval: ref('Approval'),
            source: { type: 'string', enum: ['history'], description: 'present when the job was read from the durable history (PostgreSQL) because Redis no longer holds it' },
          },
        },
        Attempt: { type: 'object', properties: { attempt: { type: 'integer' }, started_at: { type: 'string' }, ended_at: { type: 'string', nullable: true }, worker: { type: 'string', nullable: true }, outcome: { type: 'string', enum: ['running', 'completed', 'skipped', 'cancelled', 'failed', 'lost'] }, error: { type: 'string' }, error_name: { type: 'string' }, stack: { type: 'string' }, detail: { type: 'string' } } },
        Approval: { type: 'object', properties: { job_id: { type: 'string' }, status: { type: 'string', enum: ['pending', 'approved', 'rejected', 'expired'] }, agent: { type: 'string' }, ticker: { type: 'string' }, decision: { type: 'string' }, price: { type: 'number', nullable: true }, created_at: { type: 'string' }, expires_at: { type: 'string' }, settled_by: { type: 'string', nullable: true }, settled_at: { type: 'string', nullable: true }, note: { type: 'string', nullable: true }, fill: { type: 'object', nullable: true }, fill_pending: { type: 'boolean' } } },
        ScheduleDetail: {
          description: 'A schedule plus its next runs, recent runs, counts and today\'s slots',
          allOf: [
            ref('Schedule'),
            {
              type: 'object',
              properties: {
                next_runs: { type: 'array', items: { type: 'object', properties: { ticker: { type: 'string' }, scheduler: { type: 'string' }, runs: { type: 'array', items: { type: 'string', format: 'date-time' } } } } },
                recent_runs: { type: 'array', items: { type: 'object' } },
                counts: { type: 'object', description: '{today, all_time}: {ran, failed, cancelled, skipped{reason: n}}' },
                today: { type: 'object', description: '{date, session, slots[{at, runs[{ticker, status, job_id?, decision?, reason?}]}], truncated, other_runs[]}' },
              },
            },
          ],
        },
        Result: {
          type: 'object',
          properties: {
            job_id: { type: 'string' }, ticker: { type: 'string' }, date: { type: 'string' }, agent: { type: 'string' }, decision: { type: 'string', enum: ['BUY', 'SELL', 'HOLD'] },
            rating: { type: 'string', enum: ['Buy', 'Overweight', 'Hold', 'Underweight', 'Sell'] }, confidence: { type: 'number' }, price: { type: 'number', nullable: true },
            reports: { type: 'object', additionalProperties: { type: 'string' } }, indicators: { type: 'object', additionalProperties: { type: 'number', nullable: true } },
            data_source: { type: 'string' }, engine: { type: 'string' }, models: { type: 'array', items: { type: 'string' } }, usage: { type: 'object', description: 'tokens, cost_usd and calls; cost_unknown: some call\'s cost is not known (cost_usd is then the known part); usage_unknown: some call came without usage from the server (its tokens are not counted); this attempt\'s' }, job_usage: { type: 'object', description: 'a retried cycle whose earlier attempts made model calls: the whole job\'s usage, theirs included' },
            started_at: { type: 'string' }, finished_at: { type: 'string' }, dry_run: { type: 'boolean' }, fill: { type: 'object', nullable: true }, bars: { type: 'array', items: ref('Bar') },
            status: { type: 'string', description: 'completed, or how a held decision was settled (awaiting_approval, rejected, expired)' },
            as_of: { type: 'string', format: 'date-time', nullable: true, description: 'when the price was struck: the last 5-minute bar\'s time, or the session close of the last daily bar (no intraday bars); price is that bar\'s close' },
            fill_note: { type: 'string', description: 'why fill is null (a past session, a HOLD, no trade needed, awaiting settlement)' },
            awaiting_approval: { type: 'boolean' }, approval: ref('Approval'),
            calls: { type: 'array', description: 'LLM desk: every call (role, model, tokens, cost, latency, attempt); they sum to usage', items: { type: 'object' } },
            role_reports: { type: 'object', description: "LLM desk: each role's own output" },
            lessons_used: { type: 'array', items: { type: 'object', properties: { ticker: { type: 'string' }, date: { type: 'string' }, lesson: { type: 'string' } } } },
            source: { type: 'string', enum: ['history'], description: 'present when read from the durable history (Redis no longer holds the job)' },
          },
        },
        CreateJob: {
          type: 'object', required: ['ticker'], additionalProperties: false,
          properties: {
            ticker: { type: 'string', example: 'NVDA' }, date: { type: 'string', format: 'date' }, agent: { type: 'string', default: 'quant' },
            config: cycleOptions(),
            queue: { type: 'string', enum: ['trading-cycle', 'trading-cycle-priority'], default: 'trading-cycle-priority' }, dry_run: { type: 'boolean', enum: [true], default: true, description: 'false is refused (400): there is no broker adapter, only paper trading' },
          },
        },
        Schedule: { type: 'object', properties: { id: { type: 'string' }, description: { type: 'string', nullable: true, maxLength: 500, description: "the schedule file entry's description; null when it has none" }, agent: { type: 'string' }, tickers: { type: 'array', items: { type: 'string' } }, every: { type: 'string', nullable: true }, cron: { type: 'string', nullable: true }, market_hours: { type: 'string' }, enabled: { type: 'boolean' }, paused: { type: 'boolean' }, next_run: { type: 'string', nullable: true }, last_run: { type: 'object', nullable: true }, skipped: { type: 'object' }, rearmed: { type: 'integer' },
          every_ms: { type: 'integer', nullable: true }, timezone: { type: 'string' }, queue: { type: 'string', enum: [...QUEUE_NAMES] }, pause: { type: 'object', nullable: true, description: '{by, at, note} while paused' }, dry_run: { type: 'boolean' }, overlap: { type: 'string', enum: ['skip', 'allow'] }, catch_up: { type: 'string' },
          runs: { type: 'array', description: 'per ticker: {ticker, scheduler, next_run, last_run}', items: { type: 'object' } } } },
        Bar: { type: 'object', properties: { t: { type: 'string', format: 'date-time' }, o: { type: 'number' }, h: { type: 'number' }, l: { type: 'number' }, c: { type: 'number' }, v: { type: 'number' } } },
        CreateReplay: {
          type: 'object', required: ['profiles', 'tickers', 'from', 'to'], additionalProperties: false,
          properties: {
            profiles: { type: 'array', items: { type: 'string' }, example: ['quant', 'llm-desk'] }, tickers: { type: 'array', items: { type: 'string' }, example: ['SPY'] },
            from: { type: 'string', format: 'date' }, to: { type: 'string', format: 'date' }, schedule: { type: 'string', description: "replay this schedule's intraday slots (`every` or `cron`)" },
            max_cost_usd: { type: 'number', description: 'stop with status budget_exhausted before spending more; refused (400) when a profile\'s model has no price on a hosted server, and the first cycle whose cost is not known stops the replay as failed' },
          },
        },
        Replay: {
          type: 'object',
          properties: {
            replay_id: { type: 'string' }, status: { type: 'string', enum: ['running', 'done', 'cancelled', 'budget_exhausted', 'failed'] }, profiles: { type: 'array', items: { type: 'string' } },
            tickers: { type: 'array', items: { type: 'string' } }, from: { type: 'string' }, to: { type: 'string' }, schedule_id: { type: 'string', nullable: true }, max_cost_usd: { type: 'number', nullable: true },
            sessions: { type: 'integer' }, slots: { type: 'integer' }, progress: { type: 'object', properties: { done: { type: 'integer' }, total: { type: 'integer' }, failed: { type: 'integer' }, by_profile: { type: 'object' } } },
            cost_usd: { type: 'number', description: 'the known costs\' sum (every attempt): a lower bound when cost_unknown_cycles > 0' }, cost_unknown_cycles: { type: 'integer', description: 'cycles whose cost is not known' }, tokens: { type: 'integer' }, eta_s: { type: 'number', nullable: true }, created_at: { type: 'string' }, finished_at: { type: 'string', nullable: true }, reason: { type: 'string', nullable: true },
            report: { type: 'object', description: 'per profile: decisions by day, equity curve vs buy-and-hold, total return, max drawdown, Sharpe, forward returns and hit rate, cost, tokens, cycle time; pairwise comparisons' },
          },
        },
        MarketStatus: { type: 'object', properties: { open: { type: 'boolean' }, session: { type: 'string', enum: ['pre', 'regular', 'post', 'closed'] }, now: { type: 'string' }, next_open: { type: 'string' }, next_close: { type: 'string' }, early_close: { type: 'boolean' }, holiday: { type: 'string' } } },
      },
    },
    security: [{ bearer: [] }],
    paths: withWriteRefusals({
      '/api/jobs': {
        get: {
          summary: 'List jobs, newest first',
          description: 'Filters combine. `from`/`to` bound the creation time: a New York date (YYYY-MM-DD, the whole day) or an ISO-8601 date-time with offset; `to` is exclusive for date-times. Page on with `cursor` = the previous answer\'s next_cursor.',
          parameters: [...listParams(['status', 'ticker', 'agent', 'schedule', 'queue', 'decision', 'from', 'to', 'cursor']), limitParam],
          responses: { '200': json({ type: 'object', properties: { jobs: { type: 'array', items: ref('Job') }, next_cursor: { type: 'string', nullable: true } } }), ...errors },
        },
        post: { summary: 'Analyse a ticker now', requestBody: { required: true, content: { 'application/json': { schema: ref('CreateJob') } } }, responses: { '202': json(ref('Job'), 'Accepted: pending'), ...errors } },
      },
      '/api/jobs/{id}': {
        get: { summary: 'One job', parameters: [idParam('id', 'job id')], responses: { '200': json(ref('Job')), '404': json(ref('Error')), ...errors } },
        delete: { summary: 'Cancel a job', parameters: [idParam('id', 'job id')], responses: { '200': json(ref('Job'), 'Pending job cancelled'), '202': json(ref('Job'), 'Running job is being cancelled'), '404': json(ref('Error')), '409': json(ref('Error'), 'Already finished'), ...errors } },
      },
      '/api/jobs/{id}/result': { get: { summary: 'A completed job\'s decision and reports', parameters: [idParam('id', 'job id')], responses: { '200': json(ref('Result')), '404': json(ref('Error')), '409': json(ref('Error'), 'Not completed'), ...errors } } },
      '/api/jobs/{id}/bars': {
        get: {
          summary: 'The daily bars a completed cycle analysed, with its indicators, decision and fill (for the chart)',
          parameters: [idParam('id', 'job id')],
          responses: {
            '200': json({ type: 'object', properties: { job_id: { type: 'string' }, ticker: { type: 'string' }, date: { type: 'string' }, data_source: { type: 'string' }, bars_from: { type: 'string', enum: ['result', 'cache'] }, bars: { type: 'array', items: ref('Bar') }, indicators: { type: 'object', additionalProperties: { type: 'number', nullable: true } }, decision: { type: 'string' }, price: { type: 'number', nullable: true }, decided_at: { type: 'string' }, fill: { type: 'object', nullable: true } } }),
            '404': json(ref('Error'), 'No such job, or its bars are no longer available'),
            '409': json(ref('Error'), 'Not completed'),
            ...errors,
          },
        },
      },
      '/api/stats/throughput': {
        get: {
          summary: 'Cycles finished per time bucket by status, counted in Redis by the workers (draw in America/New_York)',
          parameters: [{ name: 'range', in: 'query', schema: { type: 'string', enum: ['1h', '6h', '24h', '7d'], default: '1h' }, description: 'buckets of 1m, 5m, 15m and 1h' }],
          responses: { '200': json({ type: 'object', properties: { range: { type: 'string' }, bucket_s: { type: 'integer' }, time_zone: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, totals: { type: 'object' }, buckets: { type: 'array', items: { type: 'object', properties: { t: { type: 'integer', description: 'bucket start, Unix seconds' }, completed: { type: 'integer' }, failed: { type: 'integer' }, skipped: { type: 'integer' }, cancelled: { type: 'integer' } } } } } }), ...errors },
        },
      },
      '/api/schedules': { get: { summary: 'Schedules with next runs (market calendar applied), last runs and counters', responses: { '200': json({ type: 'object', properties: { schedules: { type: 'array', items: ref('Schedule') }, load_status: { type: 'object', nullable: true, description: 'The last load of the schedule file: {file, ok, loaded_at, schedules, hash, error?}; error (file:line:column field: reason) when the last edit was rejected and the last good schedule runs', properties: { file: { type: 'string' }, ok: { type: 'boolean' }, loaded_at: { type: 'string', format: 'date-time' }, schedules: { type: 'integer' }, hash: { type: 'string' }, error: { type: 'string' } } } } }), ...errors } } },
      '/api/schedules/{id}': { get: { summary: 'One schedule: next N runs per ticker (calendar applied), recent runs, counts today and all time, today\'s slots against what happened', parameters: [idParam('id', 'schedule id'), { name: 'next', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 5 } }], responses: { '200': json(ref('ScheduleDetail')), '404': json(ref('Error')), ...errors } } },
      '/api/schedules/{id}/pause': { post: { summary: 'Pause a schedule (kept in Redis with who, when and the note)', parameters: [idParam('id', 'schedule id')], requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { note: { type: 'string', maxLength: 500 }, by: { type: 'string' } } } } } }, responses: { '200': json({ type: 'object' }), '404': json(ref('Error')), ...errors } } },
      '/api/schedules/{id}/resume': { post: { summary: 'Resume a schedule', parameters: [idParam('id', 'schedule id')], responses: { '200': json({ type: 'object' }), '404': json(ref('Error')), ...errors } } },
      '/api/schedules/{id}/trigger': {
        post: {
          summary: 'Run a schedule\'s cycle now (priority queue)',
          parameters: [idParam('id', 'schedule id'), { name: 'respect_market_hours', in: 'query', schema: { type: 'string', enum: ['0', '1', 'true', 'false'] }, description: '1/true: 409 while the schedule\'s session is closed' }],
          requestBody: { content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { ticker: { type: 'string', description: 'one of the schedule\'s tickers (default: all of them)' } } } } } },
          responses: { '202': json({ type: 'object', properties: { schedule_id: { type: 'string' }, job_ids: { type: 'array', items: { type: 'string' } }, queue: { type: 'string' } } }), '404': json(ref('Error')), '409': json(ref('Error'), 'Market closed'), ...errors },
        },
      },
      '/api/jobs/{id}/retry': { post: { summary: 'Re-queue a failed or cancelled job under the same id, attempts kept', parameters: [idParam('id', 'job id')], responses: { '202': json(ref('Job'), 'Re-queued'), '404': json(ref('Error')), '409': json(ref('Error'), 'Not failed or cancelled'), ...errors } } },
      '/api/jobs/{id}/logs': { get: { summary: 'The job\'s log lines (attempts, progress, outcome)', parameters: [idParam('id', 'job id'), { name: 'start', in: 'query', schema: { type: 'integer' } }, { name: 'limit', in: 'query', schema: { type: 'integer' } }], responses: { '200': json({ type: 'object', properties: { job_id: { type: 'string' }, logs: { type: 'array', items: { type: 'string' } }, count: { type: 'integer' } } }), '404': json(ref('Error')), ...errors } } },
      '/api/queues/{name}/pause': { post: { summary: 'Pause a queue: workers stop taking its jobs', parameters: [idParam('name', 'queue name')], responses: { '200': json({ type: 'object', properties: { queue: { type: 'string' }, paused: { type: 'boolean' } } }), '404': json(ref('Error')), ...errors } } },
      '/api/queues/{name}/resume': { post: { summary: 'Resume a queue', parameters: [idParam('name', 'queue name')], responses: { '200': json({ type: 'object', properties: { queue: { type: 'string' }, paused: { type: 'boolean' } } }), '404': json(ref('Error')), ...errors } } },
      '/api/decisions': { get: { summary: 'Decisions awaiting approval, soonest expiry first', responses: { '200': json({ type: 'object', properties: { pending: { type: 'array', items: ref('Approval') } } }), ...errors } } },
      '/api/decisions/{job_id}/approve': { post: { summary: 'Approve a held decision: fills the paper ledger at its price, once', parameters: [idParam('job_id', 'job id')], requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { by: { type: 'string' }, note: { type: 'string' } } } } } }, responses: { '200': json(ref('Approval')), '404': json(ref('Error')), '409': json(ref('Error'), 'Already settled'), ...errors } } },
      '/api/decisions/{job_id}/reject': { post: { summary: 'Reject a held decision: nothing is filled', parameters: [idParam('job_id', 'job id')], requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { by: { type: 'string' }, note: { type: 'string' } } } } } }, responses: { '200': json(ref('Approval')), '404': json(ref('Error')), '409': json(ref('Error'), 'Already settled'), ...errors } } },
      '/api/market/status': { get: { summary: 'NYSE status now or at a given instant', parameters: [{ name: 'at', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'an instant with its offset (Z or ±hh:mm; send + as %2B); default now' }], responses: { '200': json(ref('MarketStatus')), ...errors } } },
      '/api/workers': { get: { summary: 'Worker heartbeats (celery inspect)', responses: { '200': json({ type: 'object' }), ...errors } } },
      '/api/queues': { get: { summary: 'Depth per state per queue', responses: { '200': json({ type: 'object' }), ...errors } } },
      '/api/portfolio': { get: { summary: 'Paper portfolios of every agent', responses: { '200': json({ type: 'object' }), ...errors } } },
      '/api/portfolio/{agent}': { get: { summary: 'One agent\'s paper portfolio', parameters: [idParam('agent', 'agent profile')], responses: { '200': json({ type: 'object' }), '404': json(ref('Error')), ...errors } } },
      '/api/history': {
        get: {
          summary: 'Finished cycles kept in PostgreSQL (DATABASE_URL), newest first; 404 when no durable history is configured',
          parameters: [...listParams(['status', 'ticker', 'agent', 'schedule', 'decision', 'from', 'to', 'cursor']), limitParam],
          responses: { '200': json({ type: 'object', properties: { jobs: { type: 'array', items: ref('Job') }, next_cursor: { type: 'string', nullable: true } } }), '404': json(ref('Error')), ...errors },
        },
      },
      '/api/agents/{agent}/scorecard': { get: { summary: 'Hit rate, forward returns, cost and cycle time (from PostgreSQL when DATABASE_URL is set; ?source=redis for the Redis copy)', parameters: [idParam('agent', 'agent profile'), { name: 'source', in: 'query', schema: { type: 'string', enum: ['history', 'redis'] } }], responses: { '200': json({ type: 'object' }), '404': json(ref('Error')), ...errors } } },
      '/api/agents/{agent}/compare/{other}': { get: { summary: 'Head to head of two agents on the decision points both decided (same ticker, same session of the price, same data source): agreement, confusion matrix, whose calls the market bore out where they disagreed, hit rate, return of following each one\'s calls, and known cost per decision with unknown costs counted apart', parameters: [idParam('agent', 'agent profile'), idParam('other', 'the agent profile to compare with'), { name: 'source', in: 'query', schema: { type: 'string', enum: ['history', 'redis'] } }, { name: 'from', in: 'query', schema: { type: 'string', format: 'date' } }, { name: 'to', in: 'query', schema: { type: 'string', format: 'date' } }, { name: 'ticker', in: 'query', schema: { type: 'string' } }], responses: { '200': json({ type: 'object' }), '404': json(ref('Error')), ...errors } } },
      '/api/agents/{agent}/lessons': {
        get: {
          summary: 'Lessons the LLM desk wrote from its scored decisions, newest outcome first',
          parameters: [idParam('agent', 'agent profile'), { name: 'ticker', in: 'query', schema: { type: 'string' } }, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } }],
          responses: { '200': json({ type: 'object', properties: { agent: { type: 'string' }, lessons: { type: 'array', items: { type: 'object' } } } }), ...errors },
        },
      },
      '/api/jobs/{id}/reports': {
        get: {
          summary: 'The LLM desk\'s reports and calls for a job, kept as each role finished (also for a failed or budget-aborted cycle)',
          parameters: [idParam('id', 'job id')],
          responses: { '200': json({ type: 'object', properties: { status: { type: 'string', enum: ['running', 'completed', 'failed'] }, error: { type: 'string' }, role_reports: { type: 'object' }, calls: { type: 'array', items: { type: 'object' } }, usage: { type: 'object', description: 'this attempt\'s' }, earlier_attempts: { type: 'object', description: 'what the job\'s earlier attempts spent, when any made a call' }, job_usage: { type: 'object', description: 'the whole job: earlier attempts and this one' } } }), '404': json(ref('Error')), ...errors },
        },
      },
      '/api/replays': {
        get: { summary: 'Replays, newest first', responses: { '200': json({ type: 'object', properties: { replays: { type: 'array', items: ref('Replay') } } }), ...errors } },
        post: { summary: 'Replay agent profiles over past sessions (lower priority on the live queue, own ledger)', requestBody: { required: true, content: { 'application/json': { schema: ref('CreateReplay') } } }, responses: { '202': json(ref('Replay'), 'Accepted: running'), ...errors } },
      },
      '/api/replays/{id}': {
        get: { summary: 'A replay: status, progress, ETA and its report', parameters: [idParam('id', 'replay id')], responses: { '200': json(ref('Replay')), '404': json(ref('Error')), ...errors } },
        delete: { summary: 'Cancel a running replay (its partial report stays)', parameters: [idParam('id', 'replay id')], responses: { '200': json(ref('Replay')), '404': json(ref('Error')), '409': json(ref('Error'), 'Already ended'), ...errors } },
      },
      '/api/replays/{id}/report.json': { get: { summary: 'The report as a JSON download', parameters: [idParam('id', 'replay id')], responses: { '200': json({ type: 'object' }), '404': json(ref('Error')), ...errors } } },
      '/api/replays/{id}/report.csv': { get: { summary: 'One row per cycle as CSV', parameters: [idParam('id', 'replay id')], responses: { '200': { description: 'text/csv', content: { 'text/csv': { schema: { type: 'string' } } } }, '404': json(ref('Error')), ...errors } } },
      '/api/events': { get: { summary: 'Server-Sent Events: cycle.started|progress|completed|failed|skipped, schedule.changed|rearmed, worker.online|offline, queue.paused|resumed, decision.pending|approved|rejected|expired', responses: { '200': { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } } } },
      '/api/openapi.json': { get: { summary: 'This document (behind the token, like the rest of /api)', responses: { '200': json({ type: 'object' }), '401': errors['401'] } } },
    }),
  };
}
