import { Router } from 'express';
import type { ApiContext } from '../api-context.ts';

export function workersRoutes(_ctx: ApiContext): Router {
  return Router();
}
