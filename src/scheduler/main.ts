import { runService } from '../core/index.ts';
import { startReplayHost } from '../replay/index.ts';
import { startScheduler } from './scheduler-service.ts';

// The scheduler process also hosts replay coordinators (a lease per replay: one drives it).
await runService(
  'scheduler',
  async (config, logger) => {
    const scheduler = await startScheduler(config, logger);
    const replays = await startReplayHost(config, logger, { leaseTtlMs: config.REPLAY_LEASE_MS });
    return {
      async stop() {
        await replays.stop();
        await scheduler.stop();
      },
    };
  },
  { shutdownDeadlineMs: 10_000 },
);
