// Prints one plain closing line, "tests: N passed, N failed, N skipped", for CI logs that read it.
import type { Reporter } from 'vitest/reporters';

interface TaskLike {
  type: string;
  mode?: string;
  result?: { state?: string };
  tasks?: TaskLike[];
}

function count(tasks: TaskLike[], acc: { passed: number; failed: number; skipped: number }): void {
  for (const t of tasks) {
    if (t.tasks) count(t.tasks, acc);
    if (t.type !== 'test') continue;
    const state = t.result?.state;
    if (state === 'pass') acc.passed++;
    else if (state === 'fail') acc.failed++;
    else acc.skipped++;
  }
}

export default class SummaryReporter implements Reporter {
  onFinished(files: TaskLike[] = [], errors: unknown[] = []): void {
    const acc = { passed: 0, failed: 0, skipped: 0 };
    count(files, acc);
    // A file that failed to load has no tests but must still count as a failure.
    const broken = files.filter((f) => f.result?.state === 'fail' && !(f.tasks ?? []).length).length + errors.length;
    process.stdout.write(`\ntests: ${acc.passed} passed, ${acc.failed + broken} failed, ${acc.skipped} skipped\n`);
  }
}
