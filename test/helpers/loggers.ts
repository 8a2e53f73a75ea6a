import { Logger } from '@aws-lambda-powertools/logger';
import { pino } from 'pino';

/** A Powertools logger that keeps quiet during tests. */
export const silentLambdaLogger = () => new Logger({ serviceName: 'test', logLevel: 'SILENT' });
export const silentLogger = () => pino({ level: 'silent' });
