// One source text (script, tapset macro file or command-line argument) and offset → line/column mapping.

import type { Span } from './ast.js';

export class SourceFile {
  private lineStarts: number[] | undefined;
  constructor(
    readonly name: string,
    readonly text: string,
    /** User scripts are unprivileged (embedded C needs -g); tapset files are privileged. */
    readonly privileged: boolean,
  ) {}

  lineCol(offset: number): { line: number; col: number } {
    if (!this.lineStarts) {
      const starts = [0];
      for (let i = 0; i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) starts.push(i + 1);
      this.lineStarts = starts;
    }
    const ls = this.lineStarts;
    let lo = 0;
    let hi = ls.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ls[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - ls[lo]! + 1 };
  }

  span(start: number, end: number): Span {
    const { line, col } = this.lineCol(start);
    return { file: this.name, line, col, offset: start, end };
  }
}
