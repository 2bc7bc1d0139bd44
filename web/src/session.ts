// Who is signed in: a bearer token given to the client (URL fragment, page meta, earlier in
// this tab) or minted by the development gateway for a seeded agent.
import { setToken } from "./api/http";

export interface Session {
  token: string | null; // null when the gateway itself adds the credentials
  agentId: string;
  name: string;
  workspaceId: string;
  roles: string[];
  expiresAt: number | null;
}

const KEY = "hanout.token";

function decodePart(part: string): Record<string, unknown> {
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

/** The token's claims (sub, name, wid, roles, exp); the services verify it, the client only reads it. */
export function sessionOf(token: string): Session | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const claims = decodePart(parts[1]);
    if (typeof claims.sub !== "string" || typeof claims.wid !== "string") return null;
    const exp = typeof claims.exp === "number" ? claims.exp * 1000 : null;
    if (exp !== null && exp <= Date.now()) return null;
    return {
      token,
      agentId: claims.sub,
      name: typeof claims.name === "string" ? claims.name : claims.sub,
      workspaceId: claims.wid,
      roles: Array.isArray(claims.roles) ? claims.roles.map(String) : ["agent"],
      expiresAt: exp,
    };
  } catch {
    return null;
  }
}

function givenToken(): string | null {
  const hash = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  const fromHash = hash.get("token");
  if (fromHash) {
    history.replaceState(null, "", window.location.pathname + window.location.search);
    return fromHash;
  }
  const meta = document.querySelector<HTMLMetaElement>('meta[name="hanout-token"]');
  return meta?.content || sessionStorage.getItem(KEY);
}

export function restoreSession(): Session | null {
  const token = givenToken();
  const session = token ? sessionOf(token) : null;
  if (session) start(session);
  return session;
}

export function start(session: Session): void {
  if (session.token) sessionStorage.setItem(KEY, session.token);
  setToken(session.token);
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
  setToken(null);
}
