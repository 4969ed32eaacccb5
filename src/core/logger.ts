import pino, { type Logger } from 'pino';
import type { Config } from './config.ts';

export type { Logger } from 'pino';

/** Fields every log line about a job carries. */
export interface JobLogContext {
  jobId: string;
  agent: string;
  ticker: string;
  attempt: number;
  queue?: string;
}

/**
 * JSON by default (for PM2 log files and collectors); pretty when attached to a terminal.
 * Secrets are redacted by key name wherever they appear.
 */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL' | 'LOG_FORMAT'>,
  name: string,
  destination?: pino.DestinationStream,
): Logger {
  const pretty =
    !destination &&
    (config.LOG_FORMAT === 'pretty' || (config.LOG_FORMAT === 'auto' && process.stdout.isTTY === true));
  const options: pino.LoggerOptions = {
    name,
    level: config.LOG_LEVEL,
    redact: {
      paths: ['*.apiKey', '*.token', '*.password', '*.authorization', 'headers.authorization', '*.OPENAI_API_KEY'],
      censor: '[redacted]',
    },
  };
  if (pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } },
    });
  }
  return destination ? pino(options, destination) : pino(options);
}

export function jobLogger(parent: Logger, ctx: JobLogContext): Logger {
  return parent.child({ jobId: ctx.jobId, agent: ctx.agent, ticker: ctx.ticker, attempt: ctx.attempt, queue: ctx.queue });
}
