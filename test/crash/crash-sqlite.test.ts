import { defineCrashSuite } from './crash-suite.js';

defineCrashSuite('sqlite');
