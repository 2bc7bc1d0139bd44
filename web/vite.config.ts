import { defineConfig } from "vitest/config";

// `npm run dev` serves the client with hot reload and sends API calls to the dev gateway.
const gateway = process.env.HANOUT_GATEWAY ?? "http://127.0.0.1:8080";

export default defineConfig({
  server: {
    port: 5173,
    proxy: { "/api": gateway, "/dev": gateway },
  },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  // Components' tests (*.test.tsx) say `// @vitest-environment jsdom` at their top.
  test: { environment: "node", include: ["src/**/*.test.ts", "src/**/*.test.tsx"] },
});
