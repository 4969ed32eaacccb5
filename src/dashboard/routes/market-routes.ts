import { Router } from 'express';
import type { ApiContext } from '../api-context.ts';

export function marketRoutes(_ctx: ApiContext): Router {
  return Router();
}
