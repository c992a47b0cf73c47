// The board's configuration: SPEC.md section 9's configurable limits (sxs_limit ids in
// docs/abi.md) and the statistics counters.
import {
  DEFAULT_PROCESSORS, DEFAULT_QUEUE, DEFAULT_MAX_INPUT, DEFAULT_MAX_PAGES, DEFAULT_MAX_STEPS,
  DEFAULT_STEP_SLICE,
} from "../limits";

export const LIMIT_PROCESSORS = 1;
export const LIMIT_QUEUE = 2;
export const LIMIT_MAX_INPUT = 3;
export const LIMIT_MAX_PAGES = 4;
export const LIMIT_MAX_STEPS = 5;
export const LIMIT_STEP_SLICE = 6;
export const LIMIT_SAFE_MODE = 7;

export let processors: i32 = DEFAULT_PROCESSORS;
export let queueCap: i32 = DEFAULT_QUEUE;
export let maxInput: i32 = DEFAULT_MAX_INPUT;
export let maxPages: i32 = DEFAULT_MAX_PAGES;
export let maxSteps: i32 = DEFAULT_MAX_STEPS;
export let stepSlice: i32 = DEFAULT_STEP_SLICE;
/** Safe mode: the `boot` key is not run at init (SPEC.md section 7). */
export let safeMode: bool = false;

/** Evaluation steps since init (sxs_stat 8); also the clock of step budgets. */
export let totalSteps: u64 = 0;

@inline export function countStep(): void {
  totalSteps++;
}

export function setProcessors(n: i32): void { processors = n; }
export function setQueueCap(n: i32): void { queueCap = n; }
export function setMaxInput(n: i32): void { maxInput = n; }
export function setMaxPages(n: i32): void { maxPages = n; }
export function setMaxSteps(n: i32): void { maxSteps = n; }
export function setStepSlice(n: i32): void { stepSlice = n; }
export function setSafeMode(on: bool): void { safeMode = on; }
