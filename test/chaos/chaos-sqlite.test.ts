import { defineChaosSuite } from './chaos-suite.js';

defineChaosSuite('sqlite', {
  runs: 38,
  firstSeed: 1,
  options: { instances: 1, killShare: 0.05, waves: 6 },
  slots: 4,
});
