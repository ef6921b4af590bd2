// Messages between pool-bench.ts (parent) and arm-worker.ts (one arm run or one soak per process).
import type { ArmContext, ArmName, ArmRun } from './arms.ts';

export type ParentMessage =
  | { type: 'run'; arm: ArmName; ctx: ArmContext }
  | { type: 'soak'; transactions: number; concurrency: number; recycleAfterLeases: number; baseUrl: string; password: string }
  | { type: 'ack' };

export type WorkerMessage =
  | { type: 'booted' }
  | { type: 'started' }
  | { type: 'ran'; run: ArmRun; wallMs: number }
  | { type: 'closed' }
  | { type: 'soak-sample'; label: 'start' | 'cycle' | 'end' | 'after-close'; done: number; failures: number; recycled: number; heapUsedBytes: number }
  | { type: 'error'; message: string };
