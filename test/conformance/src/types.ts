/** The outcome of one conformance case. */
export interface CaseResult {
  id: string;
  name: string;
  /** Undefined when the case passed; otherwise why it failed. */
  failure?: string;
}

/**
 * A suite runs every case of a case file (already parsed JSON) and reports each result as it finishes.
 * It must accept any file in its suite's format, not only the files in the repository.
 */
export type Suite = (doc: unknown, report: (result: CaseResult) => void) => Promise<void>;
