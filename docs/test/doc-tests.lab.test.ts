/** The guides' samples marked `doctest=lab` (they need real devices): run in the lab guest. */
import { fileURLToPath } from 'node:url';
import { describeDocTests } from './support/run-doc-tests.js';

describeDocTests(fileURLToPath(new URL('../../', import.meta.url)), 'lab');
