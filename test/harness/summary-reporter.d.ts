// Types of summary-reporter.js (plain JavaScript: jest loads reporters without a transform).
export const countsFileEnv: string;
export function closingLine(counts: { passed: number; failed: number; skipped: number }): string;
export default class SummaryReporter {}
