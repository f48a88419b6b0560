// Type-aware lint (typescript-eslint). `npm run lint` runs it with knip (unused files, exports and
// dependencies); `.ci/run` runs both.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // Root-level .ts files other than the config are a user's own (the README's walk-through writes one there).
  { ignores: ["gen/**", "test/conformance/gen/**", "node_modules/**", ".flowgate/**", "dist/**", "*.ts", "!vitest.config.ts", "!vitest.reliability.config.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits loses its error; `void` marks the ones left running on purpose.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      // Temporal workflow functions and service handlers are async by contract, awaiting or not.
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // Protobuf JSON, Temporal payloads and decoded bodies are `unknown`/`any` by nature; the code narrows
      // them where it uses them. These rules would ask for a cast at every such boundary.
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-call": "off",
    },
  },
  {
    files: ["**/*.js"],
    ...tseslint.configs.disableTypeChecked,
  },
);
