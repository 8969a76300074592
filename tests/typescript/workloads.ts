// Type tests for the generated interfaces: valid workloads compile, and each line under an
// "expect error" directive must fail to compile (tsc reports an unused directive otherwise), so the
// types are shown to reject these mistakes. Checked by `tsc -p tsconfig.json` in tests/test_typescript.py.
import type { MlInferenceLoadSchema } from "../../src/workloadChartValues/mlInferenceLoad";
import type { EnvironmentVariableObj } from "../../src/workloadChartValues/shared";
import { WORKLOAD_TYPES, type WorkloadSchema, type WorkloadType } from "../../src/workloadChartValues/workloadSchema";

const minimal: MlInferenceLoadSchema = {
    workloadType: "ML_INFERENCE_LOAD",
    serviceName: "qwen-small",
    serviceCatalog: "ml-team",
    environment: "dev",
    model: { id: "Qwen/Qwen2.5-0.5B-Instruct", revision: "main" },
};

const full: WorkloadSchema = {
    ...minimal,
    namespace: null,
    ingress: { enabled: true, host: "llm.example.com", gateway: { name: "gateway" }, paths: ["/generate"] },
    model: { id: "meta-llama/Llama-3.2-1B", revision: "main", quantization: "awq", dtype: null },
    inference: { maxInputLength: 2048, maxTotalTokens: 4096, cudaGraphs: [1, 2, 4], image: { tag: "3.3.7" } },
    gpu: { count: 2, nodeSelector: { "nvidia.com/gpu.present": null }, runtimeClassName: null },
    storage: { modelCache: { enabled: true, size: "100Gi" } },
    environmentVariables: [{ name: "PREFIX_CACHING", value: "1" }, { name: "X", secretKeyRef: { name: "s", key: "k" } }],
};

const env: EnvironmentVariableObj = { name: "A", value: "1" };
const known: WorkloadType = WORKLOAD_TYPES[0];

// A wrong discriminator.
// @ts-expect-error workloadType must be one of WORKLOAD_TYPES
const wrongType: WorkloadSchema = { ...minimal, workloadType: "BASIC_CONTAINER_LOAD" };

// model.id is required.
// @ts-expect-error model.id is missing
const missingModelId: MlInferenceLoadSchema = { ...minimal, model: { revision: "main" } };

// gpu.count is a number, not a string.
// @ts-expect-error gpu.count must be a number
const stringGpuCount: MlInferenceLoadSchema = { ...minimal, gpu: { count: "2" } };

// Unknown keys are rejected (the schema's additionalProperties: false).
// @ts-expect-error gpus is not a field
const unknownKey: MlInferenceLoadSchema = { ...minimal, gpus: 2 };

// @ts-expect-error environment is dev, staging or prod
const badEnvironment: MlInferenceLoadSchema = { ...minimal, environment: "qa" };

// @ts-expect-error quantization is one of TGI's methods
const badQuantization: MlInferenceLoadSchema = { ...minimal, model: { id: "a", revision: "b", quantization: "int3" } };

// @ts-expect-error an environment variable value is a string
const numericValue: EnvironmentVariableObj = { name: "A", value: 1 };

export { minimal, full, env, known, wrongType, missingModelId, stringGpuCount, unknownKey, badEnvironment, badQuantization, numericValue };
