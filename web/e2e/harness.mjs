// What every browser journey shares: Debian's Chromium through playwright-core, the stack the
// Python side started (HANOUT_* variables), sign-in, screenshots, and calls to play the customer.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const BASE_URL = process.env.HANOUT_BASE_URL ?? "http://127.0.0.1:8080";
export const SIMULATOR_URL = process.env.HANOUT_SIMULATOR_URL ?? "http://127.0.0.1:8090";
export const WORKSPACE = JSON.parse(process.env.HANOUT_WORKSPACE ?? "null");
const SHOTS = process.env.HANOUT_SCREENSHOTS ?? join(process.cwd(), "..", "artifacts", "screenshots");
const CHROMIUM = process.env.HANOUT_CHROMIUM ?? "/usr/bin/chromium";

// Without the background-networking flags Chromium keeps dialling Google on a closed network.
const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

/** One browser with a fresh profile; closed (and its profile removed) by the returned function. */
export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), "hanout-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
    locale: "fr-MA",
    timezoneId: "Europe/Paris", // not the shop's: times must still show in Africa/Casablanca
  });
  reportTrouble(context);
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** On the journeys' output, what a timed-out wait was waiting on: every write the page sent
 * (sent, then answered: a write left unanswered shows as sent only), and every refused or failed
 * call. */
function reportTrouble(context) {
  const at = () => new Date().toISOString().slice(11, 23);
  // Presence heartbeats (every few seconds) would bury the writes that matter.
  const write = (request) =>
    !["GET", "HEAD", "OPTIONS"].includes(request.method()) && !request.url().endsWith("/presence");
  context.on("request", (request) => {
    if (write(request)) console.log(`${at()} sent ${request.method()} ${request.url()}`);
  });
  context.on("response", (response) => {
    if (response.status() >= 400 || write(response.request())) {
      console.log(`${at()} ${response.status()} ${response.request().method()} ${response.url()}`);
    }
  });
  context.on("requestfailed", (request) => {
    console.log(`${at()} failed ${request.method()} ${request.url()}: ${request.failure()?.errorText}`);
  });
}

export async function screenshot(page, journey, step) {
  const dir = join(SHOTS, journey);
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${step}.png`) });
}

export async function signIn(page, agentName) {
  await page.goto(BASE_URL);
  await page.getByRole("button", { name: new RegExp(agentName) }).click();
  await page.getByTestId("whoami").filter({ hasText: agentName }).waitFor();
}

export async function devToken(agentId) {
  const response = await fetch(`${BASE_URL}/dev/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ workspace_id: WORKSPACE.workspace_id, agent_id: agentId }),
  });
  if (!response.ok) throw new Error(`dev token: ${response.status}`);
  return (await response.json()).token;
}

/** A call to the services through the gateway, as the given agent. */
export async function api(agentId, method, path, body, headers = {}) {
  const response = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${await devToken(agentId)}`,
      ...(body ? { "Content-Type": "application/json" } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

export function newCustomerNumber() {
  return `2126${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`;
}

/** A customer writes through the Meta simulator; `at` (seconds) backdates WhatsApp's timestamp. */
export async function customerWrites({ number, waId, name, text, at }) {
  const id = `wamid.E2E${Math.random().toString(36).slice(2)}${Date.now()}`;
  const message = { from: waId, id, timestamp: String(at ?? Math.floor(Date.now() / 1000)), type: "text", text: { body: text } };
  const response = await fetch(`${SIMULATOR_URL}/_sim/inbound`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      phone_number_id: number.phone_number_id,
      display_phone_number: number.display_phone_number,
      waba_id: number.waba_id,
      wa_id: waId,
      name,
      message,
    }),
  });
  if (!response.ok) throw new Error(`simulator: ${response.status}`);
  return id;
}

export function rowOf(page, name) {
  return page.getByTestId("conversation-list").locator("button.conv-row", { hasText: name });
}
