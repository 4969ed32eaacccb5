import { runService } from '../core/index.ts';
import { startDashboard } from './dashboard-service.ts';

await runService('dashboard', (config, logger) => startDashboard(config, logger), { shutdownDeadlineMs: 5_000 });
