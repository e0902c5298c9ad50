// The plan module's results as plain data: what crosses to the renderer, the CLI's --json and serve.
import type { ErrorInfo } from '../contract.js';
import type { NetworkInfo } from '../docker/types.js';

export type Severity = 'error' | 'warning' | 'notice';

export interface Finding {
  severity: Severity;
  /** Stable, e.g. `GATEWAY_OUTSIDE_SUBNET`; listed in docs/plan-format.md. */
  code: string;
  /** Where in the plan, e.g. `networks[1].ipv4.gateway`; empty for the whole file. */
  path: string;
  message: string;
  hint?: string;
  /** 1-based position in the file, when the plan came from text. */
  line?: number;
  column?: number;
}

export interface FamilySpec {
  subnet: string;
  gateway?: string;
  range?: string;
  /** Addresses kept out of Docker's pool (Docker's auxiliary addresses), sorted. */
  exclude: string[];
}

export interface NetSpec {
  name: string;
  driver: string;
  /** The parent interface as Docker sees it: `eth1` or `eth1.100`. */
  parent?: string;
  mode?: string;
  ipv4?: FamilySpec;
  ipv6?: FamilySpec;
  mtu?: number;
  internal: boolean;
  hostAccess?: { interface: string; address: string };
}

export type NetworkAction = 'create' | 'unchanged' | 'replace' | 'remove';

export interface NetworkChange {
  action: NetworkAction;
  name: string;
  driver: string;
  parent?: string;
  /** For replace: what differs, in words. */
  changes: string[];
  /** The network as the plan wants it (absent for remove). */
  wanted?: NetSpec;
  /** The network on the device now (absent for create). */
  current?: NetworkInfo;
}

export type AttachmentAction = 'connect' | 'unchanged' | 'readdress' | 'disconnect' | 'reconnect';

export interface Endpoint {
  ipv4?: string;
  ipv6?: string;
  aliases: string[];
}

export interface AttachmentChange {
  action: AttachmentAction;
  container: string;
  network: string;
  /** Where it is now (readdress, disconnect, reconnect). */
  from?: Endpoint;
  /** Where it will be (connect, readdress, reconnect, unchanged). */
  to?: Endpoint;
  /** Why, for the review screen. */
  reason: string;
}

export interface PlanDiff {
  planName: string;
  networks: NetworkChange[];
  attachments: AttachmentChange[];
  /** How many steps would change the device; 0 means applying is a no-op. */
  changeCount: number;
}

export type StepStatus = 'running' | 'done' | 'failed' | 'undone' | 'undo-failed';

export interface StepRecord {
  index: number;
  description: string;
  status: StepStatus;
  error?: ErrorInfo;
}

export interface ApplyProgress {
  phase: 'apply' | 'rollback';
  step: number;
  total: number;
  description: string;
  status: StepStatus;
}

export interface ApplyResult {
  ok: boolean;
  planName: string;
  steps: StepRecord[];
  /** The failure that stopped the apply. */
  error?: ErrorInfo;
  /** After a failure: every step done was undone, so the device is as it was. */
  rolledBack?: boolean;
  /** Undo steps that failed too (the device may need a look). */
  rollbackErrors?: ErrorInfo[];
}
