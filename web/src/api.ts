/** The Smart MOM API from the browser: same origin, bearer token from sign-in. */

const TOKEN_KEY = "mom.token";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(describe(status, detail));
  }

  /** Errors per form field (422 from task completion), else {}. */
  get fieldErrors(): Record<string, string> {
    const detail = this.detail as { errors?: Record<string, string> } | null;
    return detail && typeof detail === "object" && detail.errors ? detail.errors : {};
  }
}

function describe(status: number, detail: unknown): string {
  if (typeof detail === "string") return detail;
  if (detail && typeof detail === "object" && "message" in detail) return String((detail as { message: unknown }).message);
  if (Array.isArray(detail)) {
    return detail.map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).join(".")}: ${d.msg}`).join("; ");
  }
  return `HTTP ${status}`;
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export async function request<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const current = token();
  if (current) headers.Authorization = `Bearer ${current}`;
  let payload: BodyInit | undefined;
  if (body instanceof FormData || body instanceof URLSearchParams) {
    payload = body;
  } else if (typeof body === "string") {
    payload = body;
    headers["Content-Type"] = contentType ?? "text/plain";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, { method, headers, body: payload });
  const text = await response.text();
  const parsed: unknown = parseBody(text, response.headers.get("Content-Type"));
  if (!response.ok) {
    const detail = parsed && typeof parsed === "object" && "detail" in parsed ? (parsed as { detail: unknown }).detail : parsed;
    if (response.status === 401) window.dispatchEvent(new CustomEvent("mom:signed-out"));
    throw new ApiError(response.status, detail);
  }
  return parsed as T;
}

function parseBody(text: string, type: string | null): unknown {
  if (type?.includes("json") && text) return JSON.parse(text);
  return text;
}

export const get = <T>(path: string): Promise<T> => request<T>("GET", path);
export const post = <T>(path: string, body?: unknown, contentType?: string): Promise<T> =>
  request<T>("POST", path, body, contentType);

export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
