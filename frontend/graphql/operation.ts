import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  getOperationAST,
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type OperationTypeNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { schema } from './schema.js';

/** The largest GraphQL request, in bytes of its body (or of its URL's query, over GET). */
export const MAX_DOCUMENT_BYTES = 8 * 1024;
const MAX_TOKENS = 1000;

export interface OperationLimits {
  introspection: boolean;
}

/** A request's GraphQL parameters, as both transports parse them. */
export interface OperationParams {
  query: string;
  operationName?: string | null | undefined;
  variables?: Record<string, unknown> | null | undefined;
}

export type Prepared =
  | { ok: true; document: DocumentNode; operation: OperationTypeNode }
  | { ok: false; errors: readonly GraphQLError[] };

// graphql-armor's rules each cap one way a small document can cost a lot and name the cap it hit.
// Left to themselves they throw (for envelop to catch); reported instead, they are validation errors.
const report = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, '')))],
};

function rulesFor({ introspection }: OperationLimits): ValidationRule[] {
  return [
    ...specifiedRules,
    maxDepthRule({ n: 8, ignoreIntrospection: false, ...report }),
    maxAliasesRule({ n: 10, allowList: [], ...report }),
    maxDirectivesRule({ n: 10, ...report }),
    costLimitRule({ maxCost: 2000, ignoreIntrospection: false, ...report }),
    ...(introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ];
}

// "Did you mean ...?" hints are a map of the schema for whoever guesses; they go when introspection does.
function withoutSuggestions(errors: readonly GraphQLError[], limits: OperationLimits): readonly GraphQLError[] {
  if (limits.introspection) return errors;
  return errors.map((error) => new GraphQLError(error.message.replace(/ ?Did you mean .*\?$/, ''), { nodes: error.nodes ?? null }));
}

/**
 * Parses and validates one operation under the limits: a bounded number of tokens, depth, aliases,
 * directives and cost; introspection only when allowed. Every refusal is a list of GraphQL errors
 * that name the problem, for a 400.
 */
export function prepareOperation(params: OperationParams, limits: OperationLimits): Prepared {
  let document: DocumentNode;
  try {
    document = parse(params.query, { maxTokens: MAX_TOKENS });
  } catch (error) {
    return { ok: false, errors: [error instanceof GraphQLError ? error : new GraphQLError('The query could not be parsed')] };
  }
  let errors: readonly GraphQLError[];
  try {
    errors = validate(schema, document, rulesFor(limits));
  } catch (error) {
    errors = [error instanceof GraphQLError ? error : new GraphQLError('The query could not be validated')];
  }
  if (errors.length > 0) return { ok: false, errors: withoutSuggestions(errors, limits) };
  const operation = getOperationAST(document, params.operationName ?? undefined);
  if (!operation) return { ok: false, errors: [new GraphQLError(params.operationName ? `No operation named "${params.operationName}"` : 'Name the operation to run: the document has several')] };
  if (!schema.getRootType(operation.operation)) return { ok: false, errors: [new GraphQLError(`This API has no ${operation.operation} operations; it answers queries and subscriptions`)] };
  return { ok: true, document, operation: operation.operation };
}
