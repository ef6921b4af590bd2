import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rateLighthouseScore, rateVital, vitalNames, vitalThresholds } from '../../../engine/core/vitals-thresholds.ts';

describe('rateVital', () => {
  it('uses the published web.dev thresholds for every vital', () => {
    assert.deepEqual(
      Object.fromEntries(vitalNames.map((name) => [name, [vitalThresholds[name].good, vitalThresholds[name].poor]])),
      { fcpMs: [1800, 3000], lcpMs: [2500, 4000], cls: [0.1, 0.25], tbtMs: [200, 600], inpMs: [200, 500] },
    );
  });

  it('rates a value equal to the good bound as good and one just above it as needing improvement', () => {
    assert.equal(rateVital('fcpMs', 1800), 'good');
    assert.equal(rateVital('fcpMs', 1800.1), 'needs-improvement');
    assert.equal(rateVital('lcpMs', 2500), 'good');
    assert.equal(rateVital('lcpMs', 2501), 'needs-improvement');
    assert.equal(rateVital('cls', 0.1), 'good');
    assert.equal(rateVital('cls', 0.11), 'needs-improvement');
    assert.equal(rateVital('tbtMs', 200), 'good');
    assert.equal(rateVital('inpMs', 201), 'needs-improvement');
  });

  it('rates a value equal to the poor bound as needing improvement and one above it as poor', () => {
    assert.equal(rateVital('fcpMs', 3000), 'needs-improvement');
    assert.equal(rateVital('fcpMs', 3001), 'poor');
    assert.equal(rateVital('lcpMs', 4000), 'needs-improvement');
    assert.equal(rateVital('lcpMs', 4000.5), 'poor');
    assert.equal(rateVital('cls', 0.25), 'needs-improvement');
    assert.equal(rateVital('cls', 0.26), 'poor');
    assert.equal(rateVital('tbtMs', 600), 'needs-improvement');
    assert.equal(rateVital('tbtMs', 601), 'poor');
    assert.equal(rateVital('inpMs', 500), 'needs-improvement');
    assert.equal(rateVital('inpMs', 501), 'poor');
  });

  it('rates zero as good', () => {
    for (const name of vitalNames) assert.equal(rateVital(name, 0), 'good');
  });

  it('labels each vital with its short and full name and unit', () => {
    assert.equal(vitalThresholds.lcpMs.label, 'LCP');
    assert.equal(vitalThresholds.lcpMs.title, 'Largest Contentful Paint');
    assert.equal(vitalThresholds.cls.unit, '');
    assert.equal(vitalThresholds.inpMs.unit, 'ms');
  });
});

describe('rateLighthouseScore', () => {
  it('colours category scores the way Lighthouse does: 90+ good, 50–89 average, below 50 poor, null unrated', () => {
    assert.equal(rateLighthouseScore(1), 'good');
    assert.equal(rateLighthouseScore(0.9), 'good');
    assert.equal(rateLighthouseScore(0.89), 'needs-improvement');
    assert.equal(rateLighthouseScore(0.5), 'needs-improvement');
    assert.equal(rateLighthouseScore(0.49), 'poor');
    assert.equal(rateLighthouseScore(0), 'poor');
    assert.equal(rateLighthouseScore(null), undefined);
  });
});
