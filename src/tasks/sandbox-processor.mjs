// BullMQ sandbox entry. A worker forks BullMQ's child main, which imports this file: it registers tsx so
// the TypeScript processor can load (as bin/*.mjs do), then hands BullMQ the processor function.
import { register } from 'tsx/esm/api';

register();
const { default: processCycle } = await import('./sandbox-processor.ts');
export default processCycle;
