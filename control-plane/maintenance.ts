import { weekdays, type MaintenanceWindow } from './api-schemas.ts';

type Weekday = (typeof weekdays)[number];

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Day of the week and minutes since midnight of `at` in `timeZone`. */
function localTime(at: Date, timeZone: string): { day: Weekday; minutes: number } {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((part) => [part.type, part.value]));
  const day = (parts['weekday'] ?? 'Mon').slice(0, 3).toLowerCase() as Weekday;
  return { day, minutes: Number(parts['hour'] ?? 0) * 60 + Number(parts['minute'] ?? 0) };
}

function minutesOf(clock: string): number {
  const [hours = '0', minutes = '0'] = clock.split(':');
  return Number(hours) * 60 + Number(minutes);
}

/** Whether `at` falls inside the window (start inclusive, end exclusive). */
export function windowActiveAt(window: MaintenanceWindow, at: Date): boolean {
  if (window.weekly === undefined) {
    const time = at.getTime();
    return time >= Date.parse(window.startsAt ?? '') && time < Date.parse(window.endsAt ?? '');
  }
  const { days, from, to, timeZone } = window.weekly;
  const { day, minutes } = localTime(at, timeZone ?? 'UTC');
  const start = minutesOf(from);
  const end = minutesOf(to);
  if (start < end) return days.includes(day) && minutes >= start && minutes < end;
  // Past midnight: from `from` on a listed day to `to` on the day after.
  const yesterday = weekdays[(weekdays.indexOf(day) + 6) % 7] ?? day;
  return (days.includes(day) && minutes >= start) || (days.includes(yesterday) && minutes < end);
}

/**
 * The window that silences alerts of `monitorId` at `at`: one naming the monitor, or a global one (no
 * `monitors`). Checkpoint alerts (`monitorId` undefined) are silenced by global windows only.
 */
export function activeWindow(windows: readonly MaintenanceWindow[], at: Date, monitorId?: string): MaintenanceWindow | undefined {
  return windows.find((window) => (window.monitors === undefined || (monitorId !== undefined && window.monitors.includes(monitorId))) && windowActiveAt(window, at));
}
