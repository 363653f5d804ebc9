/** Per test file: remove the file's SoftHSM2 token directory after every other afterAll ran. */
import { afterAll } from 'vitest';
import { cleanupTestSoftHsm } from './softhsm.js';

afterAll(() => cleanupTestSoftHsm());
