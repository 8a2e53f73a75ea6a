import { Tracer } from '@aws-lambda-powertools/tracer';
import { tracedDocuments } from '../lib/traced/dynamodb.js';
import { tracedSns } from '../lib/traced/sns.js';
import { wire } from './advance-orders.js';

// Active tracing: each SDK call is a subsegment of the invocation's trace (a no-op off Lambda).
const tracer = new Tracer({ serviceName: 'advance-orders' });

export const handler = wire(process.env, { documents: tracedDocuments(tracer), sns: tracedSns(tracer) }, { tracer });
