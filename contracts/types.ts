import type { FromSchema } from 'json-schema-to-ts';
import type { sandboxConfig } from './schemas/config-file.js';
import type {
  createPaymentRequest,
  refundPaymentRequest,
  cancelPaymentRequest,
} from './schemas/create-payment.js';
import type { merchantCreate, merchantInput, serverKeyInput } from './schemas/merchant.js';
import type { scenarioEffect, scenarioFile, scenarioStep } from './schemas/scenario-file.js';
import type { checkConfig, runnerStep, runnerSuite } from './schemas/check-config.js';
import type { probeRecording } from './schemas/probe-recording.js';

/** TypeScript types derived from the JSON Schemas: no hand-written copies. */
export type CreatePaymentRequest = FromSchema<typeof createPaymentRequest>;
export type CancelPaymentRequest = FromSchema<typeof cancelPaymentRequest>;
export type RefundPaymentRequest = FromSchema<typeof refundPaymentRequest>;
export type ServerKeyInput = FromSchema<typeof serverKeyInput>;
export type MerchantInput = FromSchema<typeof merchantInput, { references: [typeof serverKeyInput] }>;
export type MerchantCreate = FromSchema<typeof merchantCreate, { references: [typeof serverKeyInput] }>;
export type SandboxConfigInput = FromSchema<
  typeof sandboxConfig,
  { references: [typeof merchantInput, typeof serverKeyInput] }
>;
export type ScenarioEffect = FromSchema<typeof scenarioEffect>;
export type ScenarioStep = FromSchema<typeof scenarioStep, { references: [typeof scenarioEffect] }>;
export type ScenarioFile = FromSchema<
  typeof scenarioFile,
  { references: [typeof scenarioStep, typeof scenarioEffect] }
>;
export type CheckConfigInput = FromSchema<
  typeof checkConfig,
  { references: [typeof sandboxConfig, typeof merchantInput, typeof serverKeyInput] }
>;
export type RunnerStep = FromSchema<typeof runnerStep>;
export type RunnerSuiteFile = FromSchema<
  typeof runnerSuite,
  { references: [typeof scenarioStep, typeof scenarioEffect, typeof runnerStep] }
>;
export type ProbeRecording = FromSchema<typeof probeRecording>;
