// The cron arithmetic lives with the calendar, so replays plan a schedule's slots with the very same
// functions the scheduler arms BullMQ with; the scheduler's files keep importing it from here.
export { cronNext, cronError, cronLastBefore } from '../calendar/index.ts';
