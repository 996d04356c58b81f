import { createAddressDetector } from "./addresses.js";
import { dropOverlaps, type TextDetector } from "./finding.js";
import { createNameDetector } from "./names.js";
import { createPiiDetector } from "./pii.js";
import { createSecretsDetector } from "./secrets.js";

/** Which sensitive-data families to run. */
export interface SensitiveDataOptions {
  readonly pii?: boolean;
  readonly secrets?: boolean;
  readonly names?: boolean;
  readonly addresses?: boolean;
}

/** Structured PII, secrets, person names and street addresses as one detector; overlaps resolve by confidence. */
export function createSensitiveDataDetector(options: SensitiveDataOptions = {}): TextDetector {
  const detectors: TextDetector[] = [];
  if (options.secrets !== false) detectors.push(createSecretsDetector());
  if (options.pii !== false) detectors.push(createPiiDetector());
  if (options.addresses !== false) detectors.push(createAddressDetector());
  if (options.names !== false) detectors.push(createNameDetector());
  return {
    name: "sensitive-data",
    detect: (text) => dropOverlaps(detectors.flatMap((d) => d.detect(text))),
  };
}
