import assert from 'node:assert/strict';
import { MotionHistory, sustained } from '../../../lib/alarm/rule';

/** Feed `input(t)` for t = 1…T; return the verdict per second (index t). */
function run(L: number, m: number, T: number, input: (t: number) => boolean): boolean[] {
  const h = new MotionHistory(L, m);
  const out: boolean[] = [false];
  for (let t = 1; t <= T; t++) out[t] = h.push(input(t));
  return out;
}
const firstTrue = (v: boolean[]): number => v.findIndex((x, t) => t > 0 && x);
const repeat = (pattern: number[]) => (t: number) => pattern[(t - 1) % pattern.length] === 1;

describe('lib/alarm/rule: camera-alarm.md §3.4 table', () => {
  const continuous = (): boolean => true;
  for (const [L, m, t] of [
    [45, 2, 43],
    [180, 10, 170],
    [300, 10, 290],
    [10, 3, 7],
    [5, 1, 4],
    [10, 10, 1],
  ]) {
    it(`L=${L} m=${m}, continuous motion: first true at t=${t}`, () => {
      assert.equal(firstTrue(run(L, m, L + 20, continuous)), t);
    });
  }
  it('L=45 m=2, alternating 1,0: first true at t=43', () => {
    assert.equal(firstTrue(run(45, 2, 200, repeat([1, 0]))), 43);
  });
  it('L=45 m=2, repeating 1,0,0: never true', () => {
    assert.equal(firstTrue(run(45, 2, 400, repeat([1, 0, 0]))), -1);
  });
  it('L=180 m=10, one motion then 9 quiet, repeated: true at t=170', () => {
    assert.equal(firstTrue(run(180, 10, 400, repeat([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]))), 170);
  });
  it('L=180 m=10, one motion then 10 quiet, repeated: never true', () => {
    assert.equal(firstTrue(run(180, 10, 600, repeat([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))), -1);
  });
  it('L=45 m=3, repeating 0,1,1: true at t=43', () => {
    assert.equal(firstTrue(run(45, 3, 200, repeat([0, 1, 1]))), 43);
  });
  it('L=45 m=2, 50 s motion then quiet: true 43…51, false from 52', () => {
    const v = run(45, 2, 120, (t) => t <= 50);
    for (let t = 1; t <= 120; t++) assert.equal(v[t], t >= 43 && t <= 51, `t=${t}`);
  });
  it('L=180 m=10, 175 s motion then quiet: false at the 10th quiet second', () => {
    const v = run(180, 10, 300, (t) => t <= 175);
    assert.equal(firstTrue(v), 170);
    for (let t = 170; t <= 184; t++) assert.equal(v[t], true, `t=${t}`);
    for (let t = 185; t <= 300; t++) assert.equal(v[t], false, `t=${t}`);
  });
  it('L=45 m=2, 50 motion, 2 quiet, 50 motion: true 43…51, false in the gap, true again from 95', () => {
    const v = run(45, 2, 102, (t) => t <= 50 || t >= 53);
    for (let t = 1; t <= 102; t++) assert.equal(v[t], (t >= 43 && t <= 51) || t >= 95, `t=${t}`);
  });
  it('L=45 m=2, 50 motion, 1 quiet, 50 motion: stays true after t=43', () => {
    const v = run(45, 2, 101, (t) => t !== 51);
    for (let t = 1; t <= 101; t++) assert.equal(v[t], t >= 43, `t=${t}`);
  });
  it('L=5 m=5, one motion second then quiet: true for 5 s, then false', () => {
    const v = run(5, 5, 20, (t) => t === 1);
    for (let t = 1; t <= 20; t++) assert.equal(v[t], t <= 5, `t=${t}`);
  });
  it('L=5 m=6, no motion at all: true from t=1 (the m > L edge)', () => {
    const v = run(5, 6, 10, () => false);
    for (let t = 1; t <= 10; t++) assert.equal(v[t], true);
  });
  it('L=5 m=0, continuous motion: always false', () => {
    const v = run(5, 0, 10, () => true);
    for (let t = 1; t <= 10; t++) assert.equal(v[t], false);
  });
});

describe('lib/alarm/rule: reference unit cases (newest first)', () => {
  const rep = (p: number[], n: number): number[] => Array.from({ length: n }, () => p).flat();
  it('ten 0s, m=10 → false', () => assert.equal(sustained(rep([0], 10), 10), false));
  it('ten 1s, m=10 → true', () => assert.equal(sustained(rep([1], 10), 10), true));
  it('a hundred 0s, m=10 → false', () => assert.equal(sustained(rep([0], 100), 10), false));
  it('0,1,1,0 × 25, m=10 → true', () => assert.equal(sustained(rep([0, 1, 1, 0], 25), 10), true));
  it('L=5 m=2: [1,1,1,0,0] true, [1,1,0,0,1] false, [1,0,1,0,0] true', () => {
    assert.equal(sustained([1, 1, 1, 0, 0], 2), true);
    assert.equal(sustained([1, 1, 0, 0, 1], 2), false);
    assert.equal(sustained([1, 0, 1, 0, 0], 2), true);
  });
  it('the ring history agrees with the plain rule on random input, and resize keeps the newest', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (const [L, m] of [
      [45, 2],
      [10, 10],
      [7, 3],
      [5, 6],
      [5, 0],
    ]) {
      const h = new MotionHistory(L, m);
      for (let i = 0; i < 300; i++) {
        const v = h.push(rnd() < 0.6);
        assert.equal(v, sustained(h.toArray(), m), `L=${L} m=${m} i=${i}`);
      }
    }
    const h = new MotionHistory(5, 2);
    [1, 0, 1, 1, 0].forEach((x) => h.push(x === 1));
    assert.deepEqual(h.toArray(), [0, 1, 1, 0, 1]);
    h.resize(3, 2);
    assert.deepEqual(h.toArray(), [0, 1, 1]);
    h.resize(6, 2);
    assert.deepEqual(h.toArray(), [0, 1, 1, 0, 0, 0]);
    h.reset();
    assert.deepEqual(h.toArray(), [0, 0, 0, 0, 0, 0]);
  });
});
