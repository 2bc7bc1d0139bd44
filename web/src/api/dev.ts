// The development gateway's own endpoints (devtools/gateway.py); absent behind the production one.

export interface DevAgent {
  agent_id: string;
  name: string;
  roles: string[];
}

export interface DevWorkspace {
  workspace_id: string;
  name: string;
  agents: DevAgent[];
  numbers: { phone_number_id: string; display_phone_number: string }[];
}

export interface DevConfig {
  dev: true;
  simulator: boolean;
  workspaces: DevWorkspace[];
}

async function json<T>(response: Response): Promise<T | null> {
  const type = response.headers.get("content-type") ?? "";
  if (!response.ok || !type.includes("application/json")) return null;
  return (await response.json()) as T;
}

export const devApi = {
  /** Null when this gateway is not the development one (its `/dev/` is the app shell). */
  config: async (): Promise<DevConfig | null> => {
    try {
      return await json<DevConfig>(await fetch("/dev/config"));
    } catch {
      return null;
    }
  },
  token: async (workspaceId: string, agentId: string): Promise<string> => {
    const response = await fetch("/dev/token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ workspace_id: workspaceId, agent_id: agentId }),
    });
    const body = await json<{ token: string }>(response);
    if (!body) throw new Error(`The dev gateway refused a token (${response.status})`);
    return body.token;
  },
  simulate: async (message: {
    phone_number_id: string;
    display_phone_number: string;
    wa_id: string;
    name: string;
    text: string;
  }): Promise<void> => {
    const response = await fetch("/dev/simulate", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(message),
    });
    if (!response.ok) throw new Error(`The simulator did not take the message (${response.status})`);
  },
};
