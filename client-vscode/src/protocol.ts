/** The custom part of the server contract (docs/ARCHITECTURE.md, "Editor contract"). */

export const FILE_STATUS_REQUEST = "promptls/fileStatus";
export const STATUS_CHANGED_NOTIFICATION = "promptls/statusChanged";
export const RECOUNT_WORKSPACE_COMMAND = "promptls.recountWorkspace";

export type CountState = "exact" | "estimate" | "counting" | "offline" | "rate-limited" | "no-key" | "error";

export interface PartStatus {
  id: string;
  label: string;
  tokens: number;
  exact: boolean;
  line: number;
}

export interface FileStatus {
  uri: string;
  model: string | null;
  total: number | null;
  exact: boolean;
  contextWindow: number | null;
  windowShare: number | null;
  /** The input-token budget the file is held to (its own, a glob's or the default); null when none. */
  budget?: number | null;
  overBudget?: boolean;
  costUsd: number | null;
  state: CountState;
  parts: PartStatus[];
}

export interface FileStatusParams {
  uri: string;
}

export interface StatusChangedParams {
  uri: string;
}
