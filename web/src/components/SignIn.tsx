// Development sign-in: pick a seeded agent of a seeded workspace; otherwise explain how to sign in.
import { useState } from "react";
import { devApi, type DevConfig } from "../api/dev";

interface Props {
  dev: DevConfig | null;
  onToken: (token: string) => boolean;
}

export function SignIn({ dev, onToken }: Props) {
  const [workspaceId, setWorkspaceId] = useState(dev?.workspaces[0]?.workspace_id ?? "");
  const [error, setError] = useState<string | null>(null);
  const [pasted, setPasted] = useState("");
  const workspace = dev?.workspaces.find((w) => w.workspace_id === workspaceId);
  const pick = async (agentId: string) => {
    setError(null);
    try {
      onToken(await devApi.token(workspaceId, agentId));
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    }
  };
  return (
    <main className="signin">
      <div className="signin-card">
        <h1>
          <span className="brand-mark" aria-hidden="true">
            ح
          </span>{" "}
          Hanout
        </h1>
        {dev ? (
          <>
            <p>Development sign-in: choose a seeded agent.</p>
            <label className="field">
              Workspace
              <select value={workspaceId} onChange={(e) => setWorkspaceId(e.target.value)}>
                {dev.workspaces.map((w) => (
                  <option key={w.workspace_id} value={w.workspace_id}>
                    {w.name}
                  </option>
                ))}
              </select>
            </label>
            <ul className="agent-list" aria-label="Agents">
              {workspace?.agents.map((agent) => (
                <li key={agent.agent_id}>
                  <button type="button" className="agent-button" onClick={() => void pick(agent.agent_id)}>
                    <strong>{agent.name}</strong>
                    <span>{agent.roles.join(", ")}</span>
                  </button>
                </li>
              ))}
            </ul>
          </>
        ) : (
          <p>Sign in through your organisation's gateway, or paste an access token.</p>
        )}
        <form
          className="token-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (pasted.trim() && !onToken(pasted.trim())) setError("This token is not valid or has expired.");
          }}
        >
          <label className="field">
            Access token
            <input value={pasted} onChange={(e) => setPasted(e.target.value)} autoComplete="off" spellCheck={false} />
          </label>
          <button type="submit" className="secondary">
            Use this token
          </button>
        </form>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </div>
    </main>
  );
}
