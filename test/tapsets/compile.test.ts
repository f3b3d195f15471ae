// Embedded C of the tapsets compiles as a kernel module (opt-in: TAPSH_TAPSET_CC=1, needs a kbuild tree).
import '../lang/helpers/ensure-parser.js';
import { describe, expect, it } from 'vitest';
import { compileTapsets, findBuildTree } from './helpers/ccheck.js';

const tree = findBuildTree();
// On by default (it is part of npm test); TAPSH_TAPSET_CC=0 skips it while iterating on something else.
const enabled = process.env.TAPSH_TAPSET_CC !== '0' && tree !== undefined;

describe.skipIf(!enabled)('tapset embedded C', () => {
  it('builds as one module with no errors or warnings', async () => {
    const r = await compileTapsets(tree!);
    if (!r.ok || /warning/i.test(r.output)) console.log(r.output);
    expect(r.ok).toBe(true);
    expect(r.output).not.toMatch(/warning/i);
  }, 300_000);
});
