import { approvalCommand } from '../approval-command.ts';

export default approvalCommand('approve');
