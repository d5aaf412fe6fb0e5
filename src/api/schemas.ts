import { Type } from '@sinclair/typebox';
import { badField, notFound } from '../errors.js';
import { ErrorBodySchema, ID_PATTERN, type ErrorBody } from '../shapes/common.js';
import { patternProblem } from '../lib/schema-refusal.js';
import { errorBodyOf } from './errors.js';
import { errorExample, examples } from './examples.js';

/**
 * What the route plugins add to the wire shapes of src/shapes for the OpenAPI document: examples,
 * the error responses each route can give, and the path parameters.
 */

/** `schema` with one example, which /docs shows as the request's or response's example. */
export function withExample<S extends object>(schema: S, example: unknown): S & { examples: unknown[] } {
  return { ...schema, examples: [example] };
}

/** The 400 a request part gets when it does not match its schema's pattern, worded as the server words it. */
export function patternMismatch(field: string, pattern: string): ErrorBody {
  return errorBodyOf(badField(field, patternProblem(pattern)));
}

/** Error examples several routes share: the same id check and the same lookup answer each of them. */
export const errorExamples = {
  badReceiverId: patternMismatch('params.id', ID_PATTERN.rcv),
  badMessageId: patternMismatch('params.id', ID_PATTERN.msg),
  receiverNotFound: errorBodyOf(notFound(`receiver ${examples.receiverId}`)),
  messageNotFound: errorBodyOf(notFound(`message ${examples.messageId}`)),
  unknownReceiverId: errorExample(422),
  bodyTooLarge: errorExample(413),
} as const;

/**
 * The error responses of a /v1 route, each with the given example body, plus the three every /v1
 * route can answer: 401 without a valid token, 403 for a token whose scopes do not cover it, 503
 * while Redis is unreachable.
 */
export function errorResponses(...bodies: ErrorBody[]): Record<number, typeof ErrorBodySchema & { examples: unknown[] }> {
  const all = [...bodies, errorExample(401), errorExample(403), errorExample(503)];
  return Object.fromEntries(all.map((body) => [body.statusCode, withExample(ErrorBodySchema, body)]));
}

export const receiverIdParams = Type.Object({
  id: Type.String({ pattern: ID_PATTERN.rcv, description: 'receiver id (rcv_…)', examples: [examples.receiverId] }),
});

export const messageIdParams = Type.Object({
  id: Type.String({ pattern: ID_PATTERN.msg, description: 'message id (msg_…)', examples: [examples.messageId] }),
});
