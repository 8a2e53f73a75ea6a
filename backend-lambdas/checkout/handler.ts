import { Tracer } from '@aws-lambda-powertools/tracer';
import { tracedDocuments } from '../lib/traced/dynamodb.js';
import { tracedSqs } from '../lib/traced/sqs.js';
import { wire } from './checkout.js';

// Active tracing: each SDK call is a subsegment of the invocation's trace (a no-op off Lambda).
const tracer = new Tracer({ serviceName: 'checkout' });

export const handler = wire(process.env, { documents: tracedDocuments(tracer), sqs: tracedSqs(tracer) }, { tracer });
