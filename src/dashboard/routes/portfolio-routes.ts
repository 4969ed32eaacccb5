import { Router } from 'express';
import type { ApiContext } from '../api-context.ts';

export function portfolioRoutes(_ctx: ApiContext): Router {
  return Router();
}
