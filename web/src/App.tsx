// The app shell: sign-in (a given token, or a seeded agent in development), then the inbox.
import { useEffect, useState } from "react";
import { inboxApi } from "./api/inbox";
import { devApi, type DevConfig } from "./api/dev";
import { restoreSession, signOut, start, sessionOf, type Session } from "./session";
import { SignIn } from "./components/SignIn";
import { Workspace } from "./components/Workspace";

type Boot = { state: "loading" } | { state: "ready"; session: Session | null; dev: DevConfig | null };

/** Behind a gateway that adds the credentials itself, the APIs answer without a token. */
async function gatewaySession(): Promise<Session | null> {
  try {
    await inboxApi.channels();
    return { token: null, agentId: "", name: "", workspaceId: "", roles: ["agent"], expiresAt: null };
  } catch {
    return null;
  }
}

export function App() {
  const [boot, setBoot] = useState<Boot>({ state: "loading" });
  useEffect(() => {
    const restored = restoreSession();
    void devApi.config().then(async (dev) => {
      const session = restored ?? (dev ? null : await gatewaySession());
      setBoot({ state: "ready", session, dev });
    });
  }, []);
  if (boot.state === "loading") return <div className="splash">Hanout…</div>;
  const signIn = (token: string): boolean => {
    const session = sessionOf(token);
    if (!session) return false;
    start(session);
    setBoot({ ...boot, session });
    return true;
  };
  const leave = () => {
    signOut();
    setBoot({ ...boot, session: null });
  };
  if (!boot.session) return <SignIn dev={boot.dev} onToken={signIn} />;
  return <Workspace key={boot.session.agentId} session={boot.session} dev={boot.dev} onSignOut={leave} />;
}
