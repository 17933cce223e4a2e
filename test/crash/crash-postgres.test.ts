import { defineCrashSuite } from './crash-suite.js';

defineCrashSuite('postgres');
