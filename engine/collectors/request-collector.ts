import type { Collector } from './collector.ts';
import type { NetworkTracker } from './network-tracker.ts';

/** Request count, bytes and failures per step, from the context's network events. */
export function requestCollector(tracker: NetworkTracker): Collector {
  return {
    name: 'requests',
    async beforeStep() {
      // Requests between steps (late beacons) are not charged to the next step.
      await tracker.takeCounts();
    },
    async afterStep() {
      return { requests: await tracker.takeCounts() };
    },
  };
}
