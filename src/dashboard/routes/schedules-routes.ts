import { Router } from 'express';
import type { ApiContext } from '../api-context.ts';

export function schedulesRoutes(_ctx: ApiContext): Router {
  return Router();
}
