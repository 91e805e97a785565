// Swagger UI for the API's /docs (api/docs.py), copied from the swagger-ui-dist package into
// dist/swagger/ at build time: the plant is air-gapped, nothing is loaded from a CDN.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const source = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const target = join("dist", "swagger");
mkdirSync(target, { recursive: true });
for (const file of ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"]) {
  copyFileSync(join(source, file), join(target, file));
}
copyFileSync(join("scripts", "swagger-init.js"), join(target, "swagger-init.js"));
