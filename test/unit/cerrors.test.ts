// gcc errors in generated C are reported against the script line that produced them.
import { expect, it } from 'vitest';
import { mapCErrors, renderCErrors } from '../../src/build/cerrors.js';

it('maps a gcc error to the nearest origin comment above its line', () => {
  const c = ['#include "tap.h"', '/* a.stp:3 */', 'x = 1;', '', '/* a.stp:7 */', 'y = undefined_thing;', 'z = 2;'].join('\n');
  const log = [
    'make -C /tree M=/w modules',
    '/w/tapsh_script.c:6:5: error: ‘undefined_thing’ undeclared (first use in this function)',
    '/w/tapsh_script.c:3:1: warning: unused variable ‘x’',
    '/usr/src/other.h:1:1: error: not ours',
  ].join('\n');
  const mapped = mapCErrors(log, '/w/tapsh_script.c', c);
  expect(mapped).toEqual([
    { origin: 'a.stp:7', cLine: 6, severity: 'error', message: '‘undefined_thing’ undeclared (first use in this function)' },
    { origin: 'a.stp:3', cLine: 3, severity: 'warning', message: 'unused variable ‘x’' },
  ]);
  expect(renderCErrors(mapped)).toBe('a.stp:7: error: ‘undefined_thing’ undeclared (first use in this function) [generated C line 6]');
});
