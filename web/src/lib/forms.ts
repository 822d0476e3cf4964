import { ApiError } from '../api/client';

/** The park's error next to the form field it names (`details.field`), antd's way. */
export function fieldError(error: unknown, field: string) {
  return error instanceof ApiError && error.field === field ? { validateStatus: 'error' as const, help: error.message } : {};
}

/** An error the park gave that names no field: shown above the form's button. */
export function formError(error: unknown): string | null {
  return error instanceof Error && !(error instanceof ApiError && error.field) ? error.message : null;
}
