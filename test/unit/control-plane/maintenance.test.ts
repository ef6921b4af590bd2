import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maintenanceWindowSchema, type MaintenanceWindow } from '../../../control-plane/api-schemas.ts';
import { activeWindow, windowActiveAt } from '../../../control-plane/maintenance.ts';

const window = (value: unknown): MaintenanceWindow => maintenanceWindowSchema.parse(value);

describe('maintenance windows', () => {
  it('one-off: from startsAt (inclusive) to endsAt (exclusive), whatever offset they are written with', () => {
    const once = window({ id: 'release', startsAt: '2026-12-05T10:00:00+01:00', endsAt: '2026-12-05T11:00:00+01:00' });
    assert.equal(windowActiveAt(once, new Date('2026-12-05T08:59:59.999Z')), false);
    assert.equal(windowActiveAt(once, new Date('2026-12-05T09:00:00Z')), true);
    assert.equal(windowActiveAt(once, new Date('2026-12-05T09:59:59Z')), true);
    assert.equal(windowActiveAt(once, new Date('2026-12-05T10:00:00Z')), false);
  });

  it('weekly: the listed days and times in its time zone, past midnight into the next day', () => {
    // 2026-12-05 is a Saturday; Paris is UTC+1 in December.
    const nightly = window({ id: 'n', weekly: { days: ['sat'], from: '23:00', to: '02:00', timeZone: 'Europe/Paris' } });
    assert.equal(windowActiveAt(nightly, new Date('2026-12-05T21:59:00Z')), false, 'Sat 22:59 Paris');
    assert.equal(windowActiveAt(nightly, new Date('2026-12-05T22:00:00Z')), true, 'Sat 23:00 Paris');
    assert.equal(windowActiveAt(nightly, new Date('2026-12-06T00:59:00Z')), true, 'Sun 01:59 Paris, after a Saturday start');
    assert.equal(windowActiveAt(nightly, new Date('2026-12-06T01:00:00Z')), false, 'Sun 02:00 Paris');
    assert.equal(windowActiveAt(nightly, new Date('2026-12-06T22:30:00Z')), false, 'Sun 23:30: Sunday is not listed');
    const office = window({ id: 'o', weekly: { days: ['mon', 'tue'], from: '09:00', to: '17:30' } });
    assert.equal(windowActiveAt(office, new Date('2026-12-07T17:29:00Z')), true, 'Monday, UTC by default');
    assert.equal(windowActiveAt(office, new Date('2026-12-07T17:30:00Z')), false);
    assert.equal(windowActiveAt(office, new Date('2026-12-09T10:00:00Z')), false, 'Wednesday');
  });

  it('silences a monitor when it names it or names none; checkpoint alerts only by a global window', () => {
    const at = new Date('2026-12-05T09:30:00Z');
    const forLogin = window({ id: 'l', monitors: ['login'], startsAt: '2026-12-05T09:00:00Z', endsAt: '2026-12-05T10:00:00Z' });
    assert.equal(activeWindow([forLogin], at, 'login')?.id, 'l');
    assert.equal(activeWindow([forLogin], at, 'search'), undefined);
    assert.equal(activeWindow([forLogin], at), undefined, 'a per-monitor window does not silence checkpoint alerts');
    const global = window({ id: 'g', startsAt: '2026-12-05T09:00:00Z', endsAt: '2026-12-05T10:00:00Z' });
    assert.equal(activeWindow([forLogin, global], at, 'search')?.id, 'g');
    assert.equal(activeWindow([global], at)?.id, 'g');
  });

  it('refuses a window that is neither one-off nor weekly, ends before it starts, or has a bad zone', () => {
    const problems = (value: unknown) => maintenanceWindowSchema.safeParse(value).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    assert.deepEqual(problems({ id: 'x' }), ['startsAt: expected startsAt and endsAt (one-off) or weekly (recurring)']);
    assert.deepEqual(problems({ id: 'x', startsAt: '2026-12-05T10:00:00Z' }), ['endsAt: a one-off window needs both startsAt and endsAt']);
    assert.deepEqual(problems({ id: 'x', startsAt: '2026-12-05T10:00:00Z', endsAt: '2026-12-05T09:00:00Z' }), ['endsAt: expected endsAt after startsAt']);
    assert.deepEqual(problems({ id: 'x', weekly: { days: ['sun'], from: '02:00', to: '04:00', timeZone: 'Mars/Olympus' } }), ['weekly.timeZone: expected an IANA time zone such as UTC or Europe/Paris']);
    assert.deepEqual(problems({ id: 'x', weekly: { days: ['sunday'], from: '02:00', to: '04:00' } })?.length, 1);
  });
});
