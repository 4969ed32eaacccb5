import { z } from 'zod';
import { agentNameSchema, DECISIONS, JOB_STATUSES, tickerSchema } from '../core/index.ts';
import { createdBound } from './created-bound.ts';
import { HttpError, validationError } from './http-errors.ts';

/** The filters and paging a job listing takes (the live list and the durable history alike). */
export const jobFilterFields = {
  status: z.enum(JOB_STATUSES).optional(),
  ticker: tickerSchema.optional(),
  agent: agentNameSchema.optional(),
  schedule: z.string().min(1).max(64).optional(),
  decision: z.enum(DECISIONS).optional(),
  from: createdBound('start').optional(),
  to: createdBound('end').optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
};

/** Parses a listing's query, a 400 naming the field when it is wrong (an empty range included). */
export function parseJobFilter<S extends z.ZodType<{ from?: number; to?: number }>>(schema: S, query: unknown): z.infer<S> {
  const q = schema.safeParse(query);
  if (!q.success) throw validationError(q.error, 'query');
  const { from, to } = q.data as { from?: number; to?: number };
  if (from !== undefined && to !== undefined && from >= to) {
    throw new HttpError(400, 'invalid request query', [{ field: 'to', message: 'must be after from' }]);
  }
  return q.data;
}
