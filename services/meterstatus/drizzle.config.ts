import { defineConfig } from "drizzle-kit";

// `npx drizzle-kit generate` writes the migrations the runtime applies (schema `meterstatus`).
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/schema.ts",
  out: "./drizzle",
  schemaFilter: ["meterstatus"],
});
