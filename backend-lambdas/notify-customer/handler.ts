import { Tracer } from '@aws-lambda-powertools/tracer';
import { tracedDocuments } from '../lib/traced/dynamodb.js';
import { tracedSes } from '../lib/traced/ses.js';
import { wire } from './notify-customer.js';

// Active tracing: each SDK call is a subsegment of the invocation's trace (a no-op off Lambda).
const tracer = new Tracer({ serviceName: 'notify-customer' });

export const handler = wire(process.env, { documents: tracedDocuments(tracer), ses: tracedSes(tracer) }, { tracer });
