import { ApiError } from '../shared/api.js';

/** Whether a failure means the coordinator refused the researcher token. */
export function isUnauthorized(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 401 || error.code === 'unauthorized');
}

/** A sentence for the researcher, naming the cause (network, token, server) of a failure. */
export function describeError(error: unknown): string {
  if (isUnauthorized(error)) {
    return 'Wrong researcher token: the coordinator answered 401 unauthorized. Enter the right token.';
  }
  if (error instanceof ApiError) {
    if (error.code === 'network') return `Network error: ${error.message}`;
    return error.status > 0
      ? `${error.message} (HTTP ${error.status}, ${error.code})`
      : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
