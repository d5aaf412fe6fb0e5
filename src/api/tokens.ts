import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Tokens } from '../domain/tokens.js';
import { notFound } from '../errors.js';
import { TOKEN_ID_PATTERN } from '../shapes/common.js';
import { CreatedTokenResponse, CreateTokenSchema, TokenListQuerySchema, TokenPageResponse, TokenParamsSchema } from '../shapes/tokens.js';
import { errorBodyOf } from './errors.js';
import { errorResponses, patternMismatch, withExample } from './schemas.js';
import { createdToken, tenantExamples } from './tenant-examples.js';

const tags = ['tokens'];

/** API tokens with scopes (admin only): each route is its schema and one call to the tokens module. */
export const tokenRoutes: FastifyPluginCallbackTypebox<{ tokens: Tokens }> = (app, { tokens }, done) => {
  app.post(
    '/tokens',
    {
      schema: {
        tags,
        operationId: 'createToken',
        summary: 'Create an API token with scopes; the answer is the only time the token is shown (it is stored as its SHA-256)',
        body: withExample(CreateTokenSchema, tenantExamples.newToken),
        response: {
          201: withExample(CreatedTokenResponse, createdToken),
          ...errorResponses(patternMismatch('scopes[0]', CreateTokenSchema.properties.scopes.items.pattern ?? '')),
        },
      },
    },
    async (request, reply) => reply.status(201).send(await tokens.create(request.body, request.log)),
  );

  app.get(
    '/tokens',
    {
      schema: {
        tags,
        operationId: 'listTokens',
        summary: 'List API tokens, oldest first (never the tokens themselves); expired ones are gone',
        querystring: TokenListQuerySchema,
        response: {
          200: withExample(TokenPageResponse, { data: [tenantExamples.token], next: null }),
          ...errorResponses(patternMismatch('querystring.cursor', TOKEN_ID_PATTERN)),
        },
      },
    },
    async (request) => tokens.list(Number(request.query.limit ?? 50), request.query.cursor),
  );

  app.delete(
    '/tokens/:id',
    {
      schema: {
        tags,
        operationId: 'revokeToken',
        summary: 'Revoke a token: every API process refuses it within a second',
        params: TokenParamsSchema,
        response: {
          204: Type.Null(),
          ...errorResponses(patternMismatch('params.id', TOKEN_ID_PATTERN), errorBodyOf(notFound(`token ${tenantExamples.tokenId}`))),
        },
      },
    },
    async (request, reply) => {
      await tokens.revoke(request.params.id, request.log);
      return reply.status(204).send(null);
    },
  );
  done();
};
