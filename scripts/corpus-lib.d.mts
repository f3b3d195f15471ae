// Types for corpus-lib.mjs, for the TypeScript tests that share it.
export declare const REPO: string;
export declare const CORPUS: string;
export declare const corpusPresent: boolean;
export interface ManifestRow {
  file: string;
  kind: 'stap' | 'shell';
  flags: string;
  expected: 'exit0' | 'nonzero';
}
export interface ShimCall {
  argv: string[];
  stdin?: string;
  tapsetDir?: string;
  wouldRun: boolean;
  /** tapsh's exit status for this call (undefined when it was refused or not run). */
  code?: number;
}
export declare function readManifest(dir: string): ManifestRow[];
export declare function shebangArgs(firstLine: string): string[] | undefined;
export declare function shellUnsupported(text: string): string | undefined;
export declare function recordShellCalls<T>(path: string, inspect: (calls: ShimCall[], cwd: string) => T): T;
export interface ShimRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  calls: ShimCall[];
}
export declare function runWithShim(o: { argv: string[]; cwd?: string; cli?: string; timeoutMs?: number; env?: Record<string, string> }): Promise<ShimRun>;
