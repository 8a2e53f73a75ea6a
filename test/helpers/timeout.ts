// jest reads testTimeout only from the root config, not from a project's; each project names its
// own in `globals.projectTestTimeoutMs` and this sets it.
import { jest } from '@jest/globals';

const timeoutMs = (globalThis as { projectTestTimeoutMs?: number }).projectTestTimeoutMs;
if (timeoutMs !== undefined) jest.setTimeout(timeoutMs);
