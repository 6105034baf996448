import type { FilterFn, TestFn } from './render.js';
export const networkFilters: Record<string, FilterFn> = {};
export const networkTests: Record<string, TestFn> = {};
