import assert from 'node:assert/strict';
import { DetectionSeconds, bandpass, inBand, motionSecond } from '../../../lib/motion/seconds';

describe('detection seconds (camera-alarm.md §3.1)', () => {
  it('band-pass cases from the reference tests', () => {
    assert.deepEqual(bandpass([0], 0, 0), []); // 0 never counts
    assert.deepEqual(bandpass([1], 0, 0), []);
    assert.deepEqual(bandpass([0], 10, 100), []);
    assert.deepEqual(bandpass([10], 10, 100), [10]);
    assert.deepEqual(bandpass([10], 0, 1e10), [10]);
    assert.deepEqual(bandpass([10, 10, 10], 0, 9), []);
    assert.deepEqual(bandpass([1, 10, 10], 0, 9), [1]);
    assert.deepEqual(bandpass([], 0, 9), []);
  });

  it('motion when at least one count is within [max(lo,1), hi], both inclusive (lo 15, hi 9000)', () => {
    const verdict = (counts: number[]): boolean => {
      const v = counts.some((c) => inBand(c, 15, 9000));
      assert.equal(motionSecond(counts, 15, 9000), v, `motionSecond(${JSON.stringify(counts)}), what the alarm rule takes`);
      return v;
    };
    assert.equal(verdict([0, 50]), true);
    assert.equal(verdict([0, 14]), false);
    assert.equal(verdict([15, 0]), true);
    assert.equal(verdict([9000]), true);
    assert.equal(verdict([9001]), false);
    assert.equal(verdict([307200]), false);
  });

  it('groups fps counts into one second and clears', () => {
    const s = new DetectionSeconds(2, 15, 9000);
    assert.equal(s.add(0), undefined);
    assert.deepEqual(s.add(50), { motion: true, counts: [0, 50] });
    assert.equal(s.add(307200), undefined);
    assert.deepEqual(s.add(3), { motion: false, counts: [307200, 3] });
    const one = new DetectionSeconds(1, 0, 10000);
    assert.deepEqual(one.add(0), { motion: false, counts: [0] });
    assert.deepEqual(one.add(1), { motion: true, counts: [1] });
  });

  it('a change of fps starts a fresh second; a band change applies to the next verdict', () => {
    const s = new DetectionSeconds(3, 0, 100);
    s.add(5);
    s.configure(2, 0, 100);
    assert.deepEqual(s.pending, []);
    s.add(500);
    s.configure(2, 0, 1000);
    assert.deepEqual(s.add(0), { motion: true, counts: [500, 0] });
  });
});
