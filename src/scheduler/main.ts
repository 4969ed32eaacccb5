import { runService } from '../core/index.ts';
import { startScheduler } from './scheduler-service.ts';

await runService('scheduler', (config, logger) => startScheduler(config, logger), { shutdownDeadlineMs: 10_000 });
