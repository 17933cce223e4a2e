import { defineChaosSuite } from './chaos-suite.js';

defineChaosSuite('postgres', {
  runs: 12,
  firstSeed: 1,
  options: { instances: 2, killShare: 0.1, waves: 6 },
  slots: 3,
});
