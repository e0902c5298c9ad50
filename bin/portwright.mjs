#!/usr/bin/env node
// `portwright` from a checkout: runs the TypeScript CLI through tsx (no build step needed).
import { register } from 'tsx/esm/api';

register();
await import('../electron/cli/run.ts');
