/** Whether an optional input field is absent (`undefined` or `null`, which models sometimes send for "not given"). */
export function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

/** Whether `value` is a whole number, as a JSON Schema `integer`. */
export function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}
