import type { Router } from 'express';
import type { ApiContext } from '../api-context.ts';
import { decisionsRoutes } from './decisions-routes.ts';
import { jobTriageRoutes } from './job-triage-routes.ts';
import { deskRoutes } from './desk-routes.ts';
import { jobBarsRoutes } from './job-bars-routes.ts';
import { historyRoutes } from './history-routes.ts';
import { jobsRoutes } from './jobs-routes.ts';
import { marketRoutes } from './market-routes.ts';
import { portfolioRoutes } from './portfolio-routes.ts';
import { queueControlRoutes } from './queue-control-routes.ts';
import { replaysRoutes } from './replays-routes.ts';
import { schedulesRoutes } from './schedules-routes.ts';
import { statsRoutes } from './stats-routes.ts';
import { workersRoutes } from './workers-routes.ts';

/** Every JSON API router, mounted under /api (the OpenAPI test walks the same list). */
export const API_ROUTERS: Array<(ctx: ApiContext) => Router> = [jobsRoutes, schedulesRoutes, marketRoutes, workersRoutes, portfolioRoutes, deskRoutes, statsRoutes, jobBarsRoutes, jobTriageRoutes, queueControlRoutes, decisionsRoutes, replaysRoutes, historyRoutes];
