// Generates both TypeScript clients from the live document: node generate.mjs <API base URL>
// (or API_URL in the environment).
//   generated/openapi-typescript/schema.ts   openapi-typescript (types for openapi-fetch)
//   generated/hey-api/                        @hey-api/openapi-ts with its bundled fetch client
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { createClient } from "@hey-api/openapi-ts";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const here = path.dirname(fileURLToPath(import.meta.url));
const api = process.argv[2] ?? process.env.API_URL;
if (!api) {
  console.error("usage: node generate.mjs http://127.0.0.1:PORT");
  process.exit(2);
}
const documentUrl = new URL("/openapi.json", api);
const out = path.join(here, "generated");
fs.rmSync(out, { recursive: true, force: true });

// openapi-typescript maps `format: binary` to string; its documented Node API `transform`
// option maps it to Blob, which FormData takes (openapi-fetch's bodySerializer builds the form).
const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
const NULL = ts.factory.createLiteralTypeNode(ts.factory.createNull());
const started = Date.now();
const ast = await openapiTS(documentUrl, {
  transform(schemaObject) {
    if (schemaObject.format === "binary") {
      return schemaObject.nullable ? ts.factory.createUnionTypeNode([BLOB, NULL]) : BLOB;
    }
    return undefined;
  },
});
fs.mkdirSync(path.join(out, "openapi-typescript"), { recursive: true });
fs.writeFileSync(path.join(out, "openapi-typescript", "schema.ts"), astToString(ast));
console.log(`openapi-typescript: generated/openapi-typescript/schema.ts (${Date.now() - started} ms)`);

const heyStarted = Date.now();
await createClient({
  input: documentUrl.href,
  output: { path: path.join(out, "hey-api"), tsConfigPath: path.join(here, "tsconfig.json") },
  plugins: ["@hey-api/client-fetch", "@hey-api/typescript", "@hey-api/sdk"],
  logs: { file: false, level: "warn" },
});
console.log(`@hey-api/openapi-ts: generated/hey-api/ (${Date.now() - heyStarted} ms)`);
