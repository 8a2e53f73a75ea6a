import type { APIGatewayProxyEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { createHash, randomUUID } from 'node:crypto';
import { toSqsRecord } from '../../local/event-source-mapping.js';
import type { QueueRef } from '../../local/resources.js';

const testQueue: QueueRef = { name: 'orders', url: 'http://localhost/000000000000/orders', arn: 'arn:aws:sqs:us-east-1:000000000000:orders' };
const testFifoQueue: QueueRef = { name: 'orders.fifo', url: 'http://localhost/000000000000/orders.fifo', arn: 'arn:aws:sqs:us-east-1:000000000000:orders.fifo' };
let sequenceNumber = 0;

/**
 * An SQS record as Lambda would deliver it, built by the same code the local event source uses.
 * With `groupId`, a record of the FIFO queue `orders.fifo`, with the group, deduplication id and
 * sequence number Lambda adds there.
 */
export function sqsRecord(body: string, { messageId = randomUUID(), receiveCount = 1, groupId }: { messageId?: string; receiveCount?: number; groupId?: string } = {}): SQSRecord {
  const now = String(Date.now());
  const fifo = groupId === undefined ? {} : { MessageGroupId: groupId, MessageDeduplicationId: messageId, SequenceNumber: String(++sequenceNumber).padStart(20, '0') };
  return toSqsRecord(
    {
      MessageId: messageId,
      ReceiptHandle: randomUUID(),
      Body: body,
      MD5OfBody: createHash('md5').update(body).digest('hex'),
      Attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: now, SenderId: '000000000000', ApproximateFirstReceiveTimestamp: now, ...fifo },
    },
    groupId === undefined ? testQueue : testFifoQueue,
  );
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** A REST API proxy event, with the fields our handlers read and the rest as API Gateway fills them. */
export interface ApiEventOptions {
  method?: string;
  resource?: string;
  path?: string;
  body?: string | null;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string> | null;
  isBase64Encoded?: boolean;
}

export function apiEvent({
  method = 'POST',
  resource = '/orders',
  path = '/orders',
  body = null,
  headers = { 'Content-Type': 'application/json' },
  pathParameters = null,
  isBase64Encoded = false,
}: ApiEventOptions = {}): APIGatewayProxyEvent {
  return {
    resource,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters,
    stageVariables: null,
    body,
    isBase64Encoded,
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      path: `/v1${path}`,
      stage: 'v1',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'test',
      resourcePath: resource,
      identity: {
        accessKey: null, accountId: null, apiKey: 'test', apiKeyId: 'test', caller: null, clientCert: null,
        cognitoAuthenticationProvider: null, cognitoAuthenticationType: null, cognitoIdentityId: null,
        cognitoIdentityPoolId: null, principalOrgId: null, sourceIp: '127.0.0.1', user: null, userAgent: 'jest', userArn: null,
      },
    },
  };
}
