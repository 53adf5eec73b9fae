import { defineConfig } from "drizzle-kit";

// `npx drizzle-kit generate` writes the migrations the runtime applies (schema `leadership`).
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/schema.ts",
  out: "./drizzle",
  schemaFilter: ["leadership"],
});
