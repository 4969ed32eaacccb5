// PM2 process file: `npx pm2 start ecosystem.config.cjs` (or `npx tradeloop start`).
// Workers finish running cycles within WORKER_SHUTDOWN_MS on SIGTERM; PM2 must wait longer than that
// before SIGKILL (its default kill_timeout of 1.6 s would cut every running cycle short).
const workerInstances = Number(process.env.WORKER_INSTANCES || 2);
const shutdownMs = 30_000;

const common = {
  cwd: __dirname,
  interpreter: 'node',
  exec_mode: 'fork',
  autorestart: true,
  exp_backoff_restart_delay: 200,
  max_restarts: 50,
  min_uptime: '20s',
  merge_logs: true,
  time: false,
  env: { NODE_ENV: 'production', LOG_FORMAT: 'json' },
};

module.exports = {
  apps: [
    {
      ...common,
      name: 'tradeloop-scheduler',
      script: 'bin/scheduler.mjs',
      instances: 1,
      kill_timeout: 15_000,
      max_memory_restart: '300M',
      out_file: 'logs/scheduler.out.log',
      error_file: 'logs/scheduler.err.log',
    },
    {
      ...common,
      name: 'tradeloop-worker',
      script: 'bin/worker.mjs',
      instances: workerInstances,
      kill_timeout: shutdownMs + 5_000,
      max_memory_restart: '1G',
      out_file: 'logs/worker.out.log',
      error_file: 'logs/worker.err.log',
    },
    {
      ...common,
      name: 'tradeloop-dashboard',
      script: 'bin/dashboard.mjs',
      instances: 1,
      kill_timeout: 10_000,
      max_memory_restart: '500M',
      out_file: 'logs/dashboard.out.log',
      error_file: 'logs/dashboard.err.log',
    },
  ],
};
