import { Tracer } from '@aws-lambda-powertools/tracer';
import { tracedDocuments } from '../lib/traced/dynamodb.js';
import { wire } from './get-order.js';

// Active tracing: each SDK call is a subsegment of the invocation's trace (a no-op off Lambda).
const tracer = new Tracer({ serviceName: 'get-order' });

export const handler = wire(process.env, { documents: tracedDocuments(tracer) }, { tracer });
