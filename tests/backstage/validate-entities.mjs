// Validates Backstage catalog entities with Backstage's own packages, as the catalog would on ingestion.
// Usage: node validate-entities.mjs FILE...   Prints one JSON line per entity: {file, kind, name, ok, error}.
import { readFileSync } from "node:fs";
import {
  DefaultNamespaceEntityPolicy,
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  componentEntityV1alpha1Validator,
} from "@backstage/catalog-model";
import { templateEntityV1beta3Validator } from "@backstage/plugin-scaffolder-common";
import { parseAllDocuments } from "yaml";

const policy = EntityPolicies.allOf([
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
  new SchemaValidEntityPolicy(),
]);
const kindValidators = {
  Component: componentEntityV1alpha1Validator,
  Template: templateEntityV1beta3Validator,
};

for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    const entity = doc.toJS();
    if (!entity) continue;
    const result = { file, kind: entity.kind, name: entity.metadata?.name, ok: true, error: null };
    try {
      await policy.enforce(entity);
      const validator = kindValidators[entity.kind];
      if (!validator) throw new Error(`no validator for kind ${entity.kind}`);
      if ((await validator.check(entity)) !== true) throw new Error(`not a ${entity.kind} entity`);
    } catch (error) {
      result.ok = false;
      result.error = String(error.message ?? error);
    }
    console.log(JSON.stringify(result));
  }
}
