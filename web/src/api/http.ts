// One fetch wrapper for every service: the bearer token, JSON, and the services' error body.

export type Service = "inbox" | "customers" | "orders" | "ingest";

export interface ErrorDetail {
  field?: string;
  message?: string;
  [key: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

let currentToken: string | null = null;

export function setToken(token: string | null): void {
  currentToken = token;
}

export function authHeaders(): Record<string, string> {
  return currentToken ? { Authorization: `Bearer ${currentToken}` } : {};
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function apiUrl(service: Service, path: string, query?: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== null && value !== undefined && value !== "") params.set(name, String(value));
  }
  const search = params.toString();
  return `/api/${service}${path}${search ? `?${search}` : ""}`;
}

async function errorOf(response: Response): Promise<ApiError> {
  let body: { code?: string; message?: string; details?: ErrorDetail[]; detail?: unknown } = {};
  try {
    body = await response.json();
  } catch {
    // Not JSON (a gateway page, say): the status alone says what happened.
  }
  const message = body.message ?? (typeof body.detail === "string" ? body.detail : response.statusText);
  return new ApiError(response.status, body.code ?? `http_${response.status}`, message || "Request failed", body.details ?? []);
}

export async function call<T>(service: Service, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...authHeaders(), ...options.headers };
  let body: BodyInit | undefined;
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  const response = await fetch(apiUrl(service, path, options.query), {
    method: options.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
    signal: options.signal,
  });
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** A route the backend does not have (yet): the feature is hidden instead of failing. */
export function isMissing(error: unknown): boolean {
  // An unknown route answers FastAPI's bare "Not Found"; a missing resource names itself.
  if (!(error instanceof ApiError)) return false;
  return error.status === 405 || (error.status === 404 && error.message === "Not Found");
}

export function newKey(): string {
  return crypto.randomUUID();
}
