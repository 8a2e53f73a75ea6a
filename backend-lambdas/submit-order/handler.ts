import { Tracer } from '@aws-lambda-powertools/tracer';
import { tracedDocuments } from '../lib/traced/dynamodb.js';
import { tracedSqs } from '../lib/traced/sqs.js';
import { wire } from './submit-order.js';

// Active tracing: each SDK call is a subsegment of the invocation's trace (a no-op off Lambda).
const tracer = new Tracer({ serviceName: 'submit-order' });

export const handler = wire(process.env, { sqs: tracedSqs(tracer), documents: tracedDocuments(tracer) }, { tracer });
