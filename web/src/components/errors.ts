import { ApiError } from "../api/http";

/** What to tell the agent: the service's message and the fields it names. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.details.map((d) => d.message && d.field ? `${d.field}: ${d.message}` : "").filter(Boolean);
    return fields.length > 0 && error.code === "validation_failed" ? fields.join("; ") : error.message;
  }
  if (error instanceof TypeError) return "The server cannot be reached.";
  return error instanceof Error ? error.message : String(error);
}
