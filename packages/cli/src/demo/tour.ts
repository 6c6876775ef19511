/** The ordered stops of `sgv4 demo`. Each capability adds its step here as it lands. */
import { deviceStep } from './steps/device.js';
import { environmentStep } from './steps/environment.js';
import { labStep } from './steps/lab.js';
import { limitsStep } from './steps/limits.js';
import { nativeStep } from './steps/native.js';
import { permissionsStep } from './steps/permissions.js';
import { planStep } from './steps/plan.js';
import { requestModelStep } from './steps/request-model.js';
import { senseStep } from './steps/sense.js';
import type { TourStep } from './tour-step.js';

export const tour: readonly TourStep[] = [
  environmentStep,
  deviceStep,
  labStep,
  nativeStep,
  permissionsStep,
  requestModelStep,
  senseStep,
  limitsStep,
  planStep,
];
