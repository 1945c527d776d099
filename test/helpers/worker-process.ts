/** Real `workers/main.ts` processes: the chaos runner's helper, shared with the chaos and cluster tests. */
export { processExited, startWorkerProcess } from '../../chaos/worker-process';
