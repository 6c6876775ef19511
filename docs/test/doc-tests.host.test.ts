/** The guides' samples marked `doctest=host` (they use installed programs): run on the host. */
import { fileURLToPath } from 'node:url';
import { describeDocTests } from './support/run-doc-tests.js';

describeDocTests(fileURLToPath(new URL('../../', import.meta.url)), 'host');
