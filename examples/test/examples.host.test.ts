/** The examples that need only the host (and a build): run as a user runs them. */
import { describe } from 'vitest';
import { describeExampleRuns } from './support/describe-example-runs.js';

describe('examples (host tier)', () => describeExampleRuns('host'));
