import { lifecycleCommand } from '../pm2-lifecycle-command.ts';

export default lifecycleCommand('restart');
