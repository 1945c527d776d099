// Every workflow the shipbatch worker registers; this file is the worker's workflowsPath.
export { stackCheck } from './stack-check';
export { shipmentBatch } from './shipment-batch';
export { trackBatch } from './track-batch';
