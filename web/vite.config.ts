// The officers' web application: Svelte 5 built by Vite into dist/, served by the gateway (deploy/gateway/).
// A small plugin writes the service worker (sw.js) with the list of files to keep for offline use.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig, type Plugin } from "vite";

function serviceWorker(): Plugin {
  return {
    name: "otop-service-worker",
    apply: "build",
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle).filter((name) => !name.endsWith(".map"));
      const shell = ["/", ...files.map((name) => `/${name}`), "/manifest.webmanifest", "/icon.svg"];
      const version = createHash("sha256").update(files.sort().join("\n")).digest("hex").slice(0, 12);
      const source = readFileSync(new URL("./src/sw.js", import.meta.url), "utf8")
        .replace("__VERSION__", version)
        .replace("__SHELL__", JSON.stringify(shell));
      this.emitFile({ type: "asset", fileName: "sw.js", source });
    },
  };
}

export default defineConfig({
  plugins: [svelte(), serviceWorker()],
  build: { target: "es2022", sourcemap: false, chunkSizeWarningLimit: 300 },
});
