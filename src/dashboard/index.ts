/** The dashboard room: REST API, Bull Board and our own pages. Its only door. */
export { startDashboard, type DashboardService } from './dashboard-service.ts';
export { createApp } from './app.ts';
export type { ApiContext } from './api-context.ts';
export { LiveEvents, type LiveEvent } from './live-events.ts';
