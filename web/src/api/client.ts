// The only way the console talks to the park: openapi-fetch over the generated `schema.ts`.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Problem = Schemas['Problem'];

const TOKEN_KEY = 'vpark.token';

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (t: string) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** Where a 401 sends the person: the login page, then back to where they were. */
export function loginPath(): string {
  const here = window.location.pathname + window.location.search;
  return here.startsWith('/login') ? '/login' : `/login?next=${encodeURIComponent(here)}`;
}

const auth: Middleware = {
  onRequest({ request }) {
    const t = token.get();
    if (t) request.headers.set('Authorization', `Bearer ${t}`);
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401 && token.get() && !request.url.endsWith('/auth/login')) {
      token.clear();
      window.location.assign(loginPath());
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);

/** An answer of the park that is not a success: its status, code, message and request id. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | null;
  readonly details: unknown;

  constructor(status: number, problem: Partial<Problem> | undefined, requestId: string | null) {
    super(problem?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code ?? 'http_error';
    this.requestId = problem?.request_id ?? requestId;
    this.details = problem?.details;
  }

  /** The field the park named as wrong, if any (`details.field`). */
  get field(): string | null {
    const d = this.details as { field?: unknown } | null | undefined;
    return d && typeof d.field === 'string' ? d.field : null;
  }
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** Awaits an openapi-fetch call: its data, or an `ApiError` with the park's problem. */
export async function ok<T>(call: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await call;
  } catch (e) {
    throw new ApiError(0, { code: 'network', message: e instanceof Error ? e.message : String(e) }, null);
  }
  const { data, error, response } = answer;
  if (!response.ok || error !== undefined) {
    const problem = (typeof error === 'object' && error !== null ? error : undefined) as Partial<Problem> | undefined;
    throw new ApiError(response.status, problem, response.headers.get('x-request-id'));
  }
  return data as T;
}

/** A fresh key for one form: a double click or a retry records once. */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}

/** Downloads a CSV the park answers (statements, payouts) with the session's token. */
export async function download(path: string, filename: string): Promise<void> {
  const t = token.get();
  const res = await fetch(path, { headers: t ? { Authorization: `Bearer ${t}` } : {} });
  if (!res.ok) {
    const problem = (await res.json().catch(() => undefined)) as Partial<Problem> | undefined;
    throw new ApiError(res.status, problem, res.headers.get('x-request-id'));
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.click();
  URL.revokeObjectURL(url);
}
