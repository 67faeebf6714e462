// docs/faults.md shows the same rows the faults matrix e2e test runs.
import { readFileSync } from "node:fs";
import { faultsDoc, updatedFaultsDoc } from "../e2e/faults-doc.ts";

it("the faults table in docs/faults.md is generated from test/e2e/faults-table.ts (npm run generate:faults-doc)", () => {
  const doc = readFileSync(faultsDoc, "utf8");
  expect(doc).toBe(updatedFaultsDoc(doc));
});
