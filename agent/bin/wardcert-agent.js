#!/usr/bin/env node
// Thin launcher so the bin link exists before the TypeScript build has run.
import { main } from '../dist/cli/main.js';

await main(process.argv);
