/** The examples that need a real device: run in the lab guest against scsi_debug's nodes. */
import { describe } from 'vitest';
import { describeExampleRuns } from './support/describe-example-runs.js';

describe('examples (lab tier)', () => describeExampleRuns('lab'));
