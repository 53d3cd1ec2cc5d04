// Starts fauxqs (SNS + SQS, in memory) on the port given as the first argument, without its
// request log (its own CLI always logs every request, which would cost it CPU in the bench).
import { startFauxqs } from 'fauxqs';
await startFauxqs({ port: Number(process.argv[2] ?? 4566), logger: false });
